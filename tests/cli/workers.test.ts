import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { GET, parseCgi, RawConn, requestBytes } from "../support/fcgi_client.ts";
import { repoRoot, scriptPath } from "../support/runtime.ts";
import { poll, runCli } from "../support/cli_run.ts";
import { tempDir } from "../support/server.ts";
import { lineChild } from "../support/line_child.ts";
import { pythonFor } from "../support/unprivileged.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids that answer `count` requests, each on a fresh connection (5 s each). */
async function servingPids(socket: string, count: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < count; i++) {
    const conn = await RawConn.connect({ path: socket });
    try {
      await conn.write(requestBytes({ params: GET("/") }));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const reply = await Promise.race([
        conn.reply(1),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("no answer within 5 s")), 5000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.equal(reply.appStatus, 0);
      pids.add(Number(parseCgi(reply.stdout).text));
    } finally {
      conn.close();
    }
  }
  return pids;
}

const onDeno = "Deno" in globalThis;

describe("webfcgi serve --workers", () => {
  it(
    "says --workers is not supported on Deno, with what to do instead",
    { skip: !onDeno },
    async () => {
      const app = scriptPath("tests/fixtures/cli/app_pid.ts");
      const run = runCli(["serve", app, "--workers", "2"]);
      assert.equal(await run.exited, 2);
      assert.match(run.stderr(), /--workers is not supported on Deno .*docs\/scaling\.md/);
    },
  );

  it("runs 3 worker processes on one Unix socket, restarts one that dies, and stops on SIGTERM", {
    timeout: 150000,
    skip: onDeno ? "Deno's node:cluster loses connections; --workers refuses to run there" : false,
  }, async () => {
    const socket = path.join(tempDir(), "w.sock");
    const app = scriptPath("tests/fixtures/cli/app_pid.ts");
    const run = runCli(["serve", app, "--listen", `unix:${socket}`, "--workers", "3"]);
    const seen = new Set<number>();
    try {
      await poll(
        async () => {
          for (const pid of await servingPids(socket, 20)) seen.add(pid);
          return seen.size >= 3;
        },
        60000,
        "3 workers",
      );
      assert.equal(seen.size, 3, `pids seen: ${[...seen]}`);
      assert.ok(!seen.has(run.pid()), "the primary serves nothing itself");
      assert.equal(fs.statSync(socket).mode & 0o777, 0o660);

      const [victim] = seen;
      process.kill(victim, "SIGKILL");
      const before = new Set(seen);
      await poll(
        async () => {
          const now = await servingPids(socket, 20);
          for (const pid of now) seen.add(pid);
          return [...now].some((pid) => !before.has(pid));
        },
        60000,
        "a new worker",
      );
      assert.match(run.stderr(), new RegExp(`worker ${victim} exited \\(SIGKILL\\), restarting`));

      process.kill(run.pid(), "SIGTERM");
      assert.equal(await run.exited, 0, run.stderr());
      // Every worker that ever answered, the restarted one included, is gone.
      for (const pid of seen) assert.ok(!alive(pid), `worker ${pid} still running`);
      assert.doesNotMatch(run.stderr(), /did not stop/);
      assert.ok(!fs.existsSync(socket), "the socket file is removed");
    } finally {
      for (const pid of [run.pid(), ...seen]) {
        if (alive(pid)) process.kill(pid, "SIGKILL");
      }
    }
  });

  it("leaves a live server's socket alone when its backlog is full: the workers give up", {
    timeout: 120000,
    skip: onDeno ? "Deno's node:cluster loses connections; --workers refuses to run there" : false,
  }, async (t) => {
    const python = pythonFor([]);
    if (python === null) {
      t.skip("python3 is not installed: it runs the full-backlog server");
      return;
    }
    const dir = tempDir();
    const socket = path.join(dir, "busy.sock");
    const helper = lineChild([
      python,
      path.join(repoRoot, "tests/fixtures/full_backlog.py"),
      socket,
    ]);
    try {
      const ready = /^ready (\d+) /.exec(await helper.line());
      assert.ok(ready, "the helper filled its backlog");
      const app = scriptPath("tests/fixtures/cli/app_pid.ts");
      const run = runCli(["serve", app, "--listen", `unix:${socket}`, "--workers", "2"]);
      const code = await Promise.race([
        run.exited,
        new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 60000)),
      ]);
      if (code === "hung") run.signal("SIGKILL");
      assert.equal(code, 1, run.stderr());
      assert.match(
        run.stderr(),
        /EADDRINUSE: address already in use .*busy\.sock \(connect: EAGAIN\)/,
      );
      assert.match(run.stderr(), /giving up/);
      // A worker that could not listen exits with 1, not with the 0 a bare
      // IPC disconnect makes node:cluster exit with; and says so once.
      assert.match(run.stderr(), /worker \d+ exited \(1\)/);
      assert.doesNotMatch(run.stderr(), /exited \(0\)/);
      assert.doesNotMatch(run.stderr(), /webfcgi: webfcgi:/);
      assert.equal(
        fs.lstatSync(socket).ino,
        Number(ready[1]),
        "the helper's socket file is the same",
      );
      assert.deepEqual(fs.readdirSync(dir), ["busy.sock"], "no private directory left behind");
      helper.send("check");
      assert.equal(await helper.line(), "check ok");
    } finally {
      await helper.stop();
    }
  });

  it("rejects a bad worker count with the usage", async () => {
    const run = runCli(["serve", "app.ts", "--workers", "0"]);
    assert.equal(await run.exited, 2);
    assert.match(run.stderr(), /--workers takes a whole number from 1 to 256, not 0/);
  });
});
