// A live socket at `path` is never replaced, whatever connecting to it
// answers: a server whose backlog is full (EAGAIN on Linux) or one this
// process may not connect to (EACCES) is in use, not stale. Only
// ECONNREFUSED (nobody listens) and ENOENT (the file went away) mean stale;
// tests/transport/unix_socket.test.ts checks that decision for every code.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { serveFastCGI, UnixSocketError } from "../../mod.ts";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { repoRoot } from "../support/runtime.ts";
import { start, tempDir } from "../support/server.ts";
import { lineChild } from "../support/line_child.ts";
import { asNobody, pythonFor } from "../support/unprivileged.ts";
import { fixture, runtimeCommand } from "../fixtures/spawn.ts";

const hello = () => new Response("second");

/** What a connection to `file` gets within `ms`: "connected", an error code, or "timeout". */
function tryConnect(file: string, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: file });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("timeout");
    }, ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? String(error));
    });
  });
}

async function ask(file: string): Promise<string> {
  const r = await fetchRaw({ path: file }, { params: GET("/") });
  r.conn.close();
  return r.cgi.text;
}

describe("a live Unix socket is never replaced", () => {
  it(
    "a server whose backlog is full keeps its socket: listening fails with address in use",
    { timeout: 60000 },
    async (t) => {
      const python = pythonFor([]);
      if (python === null) {
        t.skip("python3 is not installed: it runs the full-backlog server");
        return;
      }
      const dir = tempDir();
      const file = path.join(dir, "busy.sock");
      const helper = lineChild([
        python,
        path.join(repoRoot, "tests/fixtures/full_backlog.py"),
        file,
      ]);
      try {
        const ready = /^ready (\d+) (\d+)$/.exec(await helper.line());
        assert.ok(ready, "the helper filled its backlog");
        const inode = Number(ready[1]);
        assert.equal(fs.lstatSync(file).ino, inode);
        // Really full: a further connection does not get through.
        assert.notEqual(await tryConnect(file), "connected");

        const began = Date.now();
        const server = serveFastCGI({ path: file, onListen() {} }, hello);
        const error = await server.listening.then(() => null, (e: Error) => e);
        if (error === null) await server.shutdown();
        assert.ok(error !== null, "listening must fail: a live server owns the path");
        t.diagnostic(`rejected in ${Date.now() - began} ms: ${error.message}`);
        assert.match(error.message, /EADDRINUSE: address already in use/);
        assert.equal((error.cause as { code?: string }).code, "EADDRINUSE");
        // The cause is the typed error the package exports, with what the probe found.
        assert.ok(error.cause instanceof UnixSocketError, String(error.cause));
        assert.equal(error.cause.path, file);
        assert.notEqual(error.cause.probe, null);
        await assert.rejects(server.finished, /EADDRINUSE/);

        assert.equal(fs.lstatSync(file).ino, inode, "the helper's socket file is the same file");
        assert.deepEqual(fs.readdirSync(dir), ["busy.sock"], "nothing of ours left behind");
        helper.send("check");
        assert.equal(await helper.line(), "check ok", "the helper still owns and answers the path");
      } finally {
        await helper.stop();
      }
    },
  );

  it(
    "a socket this process may not connect to (EACCES) is not replaced",
    { timeout: 60000 },
    async (t) => {
      const dir = tempDir();
      const file = path.join(dir, "app.sock");
      if (process.getuid?.() !== 0) {
        // Not root: the owner is refused by mode 000 too.
        await using _owner = await start(() => new Response("owner"), { path: file, mode: 0 });
        const inode = fs.lstatSync(file).ino;
        const server = serveFastCGI({ path: file, onListen() {} }, hello);
        const error = await server.listening.then(() => null, (e: Error) => e);
        if (error === null) await server.shutdown();
        assert.ok(error !== null, "listening must fail");
        assert.equal((error.cause as { code?: string }).code, "EACCES");
        assert.ok(error.cause instanceof UnixSocketError, String(error.cause));
        assert.match(error.message, /may not connect/);
        assert.equal(fs.lstatSync(file).ino, inode);
        return;
      }
      // Root connects everywhere: ask as nobody, in a directory nobody may
      // write to (the old code renamed its own socket over the live one there).
      const user = asNobody();
      if ("reason" in user) {
        t.skip(`EACCES needs another user: ${user.reason}`);
        return;
      }
      fs.chmodSync(dir, 0o777);
      await using _owner = await start(() => new Response("owner"), { path: file, mode: 0o600 });
      const inode = fs.lstatSync(file).ino;
      const home = tempDir();
      fs.chmodSync(home, 0o777);
      const child = lineChild([...user.prefix, ...runtimeCommand(fixture("listen_once")), file], {
        HOME: home,
        TMPDIR: home,
        DENO_DIR: path.join(home, "deno"),
      });
      let answer: { listening?: boolean; error?: string; code?: string | null };
      try {
        answer = JSON.parse(await child.line(60000));
      } finally {
        await child.stop();
      }
      t.diagnostic(JSON.stringify(answer));
      assert.equal(answer.listening, undefined, "nobody must not take over root's socket");
      assert.equal(answer.code, "EACCES");
      assert.match(answer.error ?? "", /may not connect/);
      assert.equal(fs.lstatSync(file).ino, inode, "the owner's socket file is the same file");
      assert.deepEqual(fs.readdirSync(dir), ["app.sock"]);
      assert.equal(await ask(file), "owner");
    },
  );
});
