// examples/socket_activation.ts under systemd-socket-activate (which holds
// the listening socket the way an app.socket unit does): a request in
// flight when the app gets SIGTERM completes, and across a restart no
// request is refused.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import {
  concat,
  fetchRaw,
  GET,
  parseCgi,
  RawConn,
  requestBytes,
  T,
} from "../support/fcgi_client.ts";
import { requirePeer } from "../support/peers.ts";
import { runtimeCommand } from "../support/runtime.ts";
import { tempDir } from "../support/server.ts";
import { waitFor } from "../support/wait.ts";
import { type Running, spawnTracked } from "./_helpers.ts";

const activate = requirePeer("systemd-socket-activate", "systemd");
const SLOW_MS = 1500;

/** The pid named in the body of GET / ("pid N, up since ..."). */
async function whoAnswers(socket: string): Promise<number> {
  const reply = await fetchRaw({ path: socket }, { params: GET("/") });
  reply.conn.close();
  assert.equal(reply.cgi.status, 200);
  const match = /^pid (\d+), up since /.exec(reply.cgi.text);
  assert.ok(match, reply.cgi.text);
  return Number(match[1]);
}

/** Starts GET /slow and resolves once its first line arrived (the request is in flight). */
async function startSlow(socket: string): Promise<RawConn> {
  const conn = await RawConn.connect({ path: socket });
  await conn.write(requestBytes({ params: GET(`/slow?ms=${SLOW_MS}`) }));
  const inFlight = await conn.until(
    () => new TextDecoder().decode(stdoutOf(conn)).includes("working for"),
    15000,
  );
  assert.ok(inFlight, "the slow response started");
  return conn;
}

function stdoutOf(conn: RawConn): Uint8Array {
  return concat(conn.records.filter((r) => r.type === T.STDOUT).map((r) => r.content));
}

function kill(pid: number, signal: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

describe("examples/socket_activation.ts under systemd-socket-activate", {
  skip: activate.path === null ? activate.why : false,
}, () => {
  const started: Running[] = [];
  const pids: number[] = [];
  after(async () => {
    for (const pid of pids) kill(pid, "SIGKILL");
    for (const run of started) await run.stop(2000);
  });

  it("starts on the first connection and finishes the request in flight on SIGTERM", async () => {
    const dir = tempDir();
    const socket = path.join(dir, "app.sock");
    const { command, args } = runtimeCommand("examples/socket_activation.ts");
    const run = spawnTracked(activate.path!, ["-l", socket, command, ...args]);
    started.push(run);
    await waitFor(() => fs.existsSync(socket), 10000, "systemd-socket-activate listens");
    // The first connection makes systemd-socket-activate exec the app (same pid).
    const pid = await whoAnswers(socket);
    pids.push(pid);
    assert.equal(pid, run.pid(), "the app runs in systemd-socket-activate's process");

    const slow = await startSlow(socket);
    const signalled = Date.now();
    kill(pid, "SIGTERM");
    const reply = await slow.reply(1, 15000);
    slow.close();
    const cgi = parseCgi(reply.stdout);
    assert.equal(cgi.status, 200);
    assert.equal(cgi.text, `pid ${pid}: working for ${SLOW_MS} ms\npid ${pid}: done\n`);
    assert.equal(reply.protocolStatus, 0, "FCGI_REQUEST_COMPLETE");
    assert.equal(await run.exited, 0, run.stderr());
    assert.ok(Date.now() - signalled < 10000, "exits once the request is done");
    assert.match(run.stderr(), new RegExp(`pid ${pid}: SIGTERM, no longer accepting`));
    assert.match(run.stderr(), new RegExp(`pid ${pid}: stopped`));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("restarts on the same socket: the old process finishes its request, the new one takes the next", async () => {
    const dir = tempDir();
    const socket = path.join(dir, "app.sock");
    const stopFile = path.join(dir, "stop");
    // Stands in for systemd's service manager: keeps the socket (fd 3) open
    // and starts the app again whenever it exits, as `systemctl restart` does.
    const supervisor = path.join(dir, "restart.sh");
    fs.writeFileSync(
      supervisor,
      [
        "#!/bin/sh",
        `while [ ! -e '${stopFile}' ]; do`,
        `  sh -c 'export LISTEN_PID=$$; exec "$@"' sh "$@"`,
        '  echo "service exited with $?" >&2',
        "done",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const { command, args } = runtimeCommand("examples/socket_activation.ts");
    const run = spawnTracked(activate.path!, ["-l", socket, supervisor, command, ...args]);
    started.push(run);
    await waitFor(() => fs.existsSync(socket), 10000, "systemd-socket-activate listens");
    const first = await whoAnswers(socket);
    pids.push(first);

    const slow = await startSlow(socket);
    kill(first, "SIGTERM"); // systemctl restart: SIGTERM to the service
    await waitFor(
      () => run.stderr().includes(`pid ${first}: SIGTERM, no longer accepting`),
      5000,
      "the old process stops accepting",
    );
    // Sent while the old process drains and before the new one runs: it
    // waits in the socket's queue and the new process answers it.
    const next = whoAnswers(socket);
    const reply = await slow.reply(1, 15000);
    slow.close();
    assert.equal(
      parseCgi(reply.stdout).text,
      `pid ${first}: working for ${SLOW_MS} ms\npid ${first}: done\n`,
    );
    const second = await next;
    pids.push(second);
    assert.notEqual(second, first, "a new process answered");
    await waitFor(
      () => /service exited with 0/.test(run.stderr()),
      5000,
      `the old process exited 0: ${run.stderr()}`,
    );

    fs.writeFileSync(stopFile, "");
    kill(second, "SIGTERM");
    assert.equal(await run.exited, 0, run.stderr());
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
