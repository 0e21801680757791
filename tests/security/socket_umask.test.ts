// Under a permissive umask (000), no name of a server's Unix socket is ever
// reachable by other users with wider permissions than `mode`, not even for
// the moment between bind and chmod. Three ways to look:
//  - in the window itself: bindUnix is given a bind that, once the real bind
//    is done (and before bindUnix goes on to chmod), inspects the directory
//    and, as another user, tries to connect to every socket in it;
//  - end to end, from outside: a watcher process polls the directory while
//    a server process started with umask 000 binds and closes thousands of
//    times (the real transports, Bun.listen included);
//  - the same for node:cluster workers, whose socket the primary binds.
// The old code (bind under a temporary name next to `path`, then chmod)
// fails all three: the temporary name is seen with mode 0777 and connected to.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { bindUnix, removeIfOurs } from "../../src/transport/unix_socket.ts";
import { repoRoot } from "../support/runtime.ts";
import { tempDir } from "../support/server.ts";
import { asNobody, pythonFor } from "../support/unprivileged.ts";
import { fixture, runtime, runtimeCommand } from "../fixtures/spawn.ts";

const MODE = 0o660;

/** Connects (as the user `prefix` runs as) to every socket in `dir` and one level below; prints those that accept. */
const CONNECT_ALL = `
import os, socket, sys
d = sys.argv[1]
names = []
for e in os.listdir(d):
    names.append(e)
    try:
        names += [e + "/" + i for i in os.listdir(os.path.join(d, e))]
    except OSError:
        pass
for n in names:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(os.path.join(d, n))
        print(n)
    except OSError:
        pass
    s.close()
`;

/** Another user to connect as, with a python3 it can run; or why there is none. */
function otherUser(): { prefix: string[]; python: string } | { reason: string } {
  const user = asNobody();
  if ("reason" in user) return user;
  const python = pythonFor(user.prefix);
  if (python === null) return { reason: "no python3 that nobody may run" };
  return { prefix: user.prefix, python };
}

/** What in `dir` other users could reach with more than `mode`, as readable complaints. */
function exposed(dir: string, mode: number): { complaints: string[]; sockets: number } {
  const complaints: string[] = [];
  let sockets = 0;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    const stat = fs.lstatSync(file, { throwIfNoEntry: false });
    if (stat === undefined) continue;
    if (stat.isSocket()) {
      sockets++;
      if ((stat.mode & 0o777 & ~mode) !== 0) {
        complaints.push(`${name}: socket with mode ${(stat.mode & 0o777).toString(8)}`);
      }
    } else if (stat.isDirectory()) {
      // Whatever is inside is out of others' reach if they may not enter.
      if ((stat.mode & 0o077) !== 0) {
        complaints.push(`${name}/: directory with mode ${(stat.mode & 0o777).toString(8)}`);
      }
      for (const inner of fs.readdirSync(file)) {
        if (fs.lstatSync(path.join(file, inner), { throwIfNoEntry: false })?.isSocket()) sockets++;
      }
    }
  }
  return { complaints, sockets };
}

function withUmask0<T>(run: () => Promise<T>): Promise<T> {
  const previous = process.umask(0);
  return run().finally(() => process.umask(previous));
}

function listen(server: net.Server, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ path: name }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

describe("under umask 000, inside the window between bind and chmod", () => {
  const other = otherUser();

  /** Binds `file` through bindUnix and looks around right after the bind. */
  async function bindAndLook(file: string) {
    const dir = path.dirname(file);
    const server = net.createServer((socket) => socket.destroy());
    const looks: Array<{ complaints: string[]; sockets: number; connected: string[] }> = [];
    const mine = await withUmask0(() =>
      bindUnix(
        file,
        MODE,
        async (name) => {
          await listen(server, name);
          const { complaints, sockets } = exposed(dir, MODE);
          let connected: string[] = [];
          if (!("reason" in other)) {
            const argv = [...other.prefix, other.python, "-c", CONNECT_ALL, dir];
            const run = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: 10000 });
            assert.equal(run.status, 0, run.stderr);
            connected = run.stdout.split("\n").filter((line) => line !== "");
          }
          looks.push({ complaints, sockets, connected });
        },
        () => new Promise((resolve) => server.close(() => resolve())),
      )
    );
    const final = fs.lstatSync(file);
    const left = fs.readdirSync(dir);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    removeIfOurs(mine);
    return { looks, finalMode: final.mode & 0o777, left };
  }

  function check(
    t: { diagnostic(message: string): void },
    result: Awaited<ReturnType<typeof bindAndLook>>,
  ) {
    assert.equal(result.looks.length, 1, "bindUnix bound once");
    const [look] = result.looks;
    assert.ok(look.sockets >= 1, "the bound socket was there to look at");
    assert.deepEqual(look.complaints, [], "nothing reachable with more than 0660");
    if ("reason" in other) t.diagnostic(`connections as another user not tried: ${other.reason}`);
    else assert.deepEqual(look.connected, [], "nobody could connect to any name of the socket");
    assert.equal(result.finalMode, MODE);
    assert.deepEqual(result.left, ["app.sock"], "no temporary name left");
  }

  it("a short path (bound in a private directory, then put in place)", async (t) => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755); // others may look in and connect, as in /run
    check(t, await bindAndLook(path.join(dir, "app.sock")));
  });

  it("a stale socket file in the way", async (t) => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, "app.sock");
    const stale = net.createServer();
    await listen(stale, file);
    fs.renameSync(file, `${file}.keep`);
    await new Promise<void>((resolve) => stale.close(() => resolve()));
    fs.renameSync(`${file}.keep`, file);
    fs.chmodSync(file, 0o600); // a dead socket of ours, not one anyone may use
    check(t, await bindAndLook(file));
  });

  it("a path too long for a private name next to it (bound in place under a umask)", async (t) => {
    const base = tempDir();
    fs.chmodSync(base, 0o755);
    // The directory's name leaves room for "app.sock" (sun_path holds 108
    // bytes) but not for ".webfcgi-XXXXXX/s" or the old ".<pid><random>".
    const dir = path.join(base, "d".repeat(86 - base.length - 1));
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, "app.sock");
    assert.equal(Buffer.byteLength(file), 95);
    check(t, await bindAndLook(file));
  });
});

interface Watched {
  rounds: number;
  seen: Array<{ name: string; kind: string; mode: number; uid: number; depth: number }>;
  connected: Array<{ name: string; mode: number }>;
  unreadable: string[];
}

/** Runs `argv` under umask 000 while watch_sockets.py watches `dir`; returns both outputs. */
async function watchWhile(
  dir: string,
  argv: string[],
  watcher: { prefix: string[]; python: string; connect: boolean },
  seconds: number,
): Promise<{ server: string; watched: Watched }> {
  const script = path.join(repoRoot, "tests/fixtures/watch_sockets.py");
  const watchArgv = [...watcher.prefix, watcher.python, script, dir, String(seconds + 10)];
  if (watcher.connect) watchArgv.push("--connect");
  const watch = spawn(watchArgv[0], watchArgv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let watchOut = "";
  let watchErr = "";
  watch.stdout!.on("data", (chunk) => (watchOut += chunk));
  watch.stderr!.on("data", (chunk) => (watchErr += chunk));
  const watchDone = new Promise<void>((resolve) => watch.once("close", () => resolve()));
  try {
    for (let i = 0; i < 200 && !watchOut.includes("watching"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(watchOut, /watching/, `the watcher did not start: ${watchErr}`);
    const child = spawn("sh", ["-c", 'umask 000 && exec "$@"', "sh", ...argv], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (chunk) => (out += chunk));
    child.stderr!.on("data", (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 30) * 1000);
    await new Promise<void>((resolve) => child.once("close", () => resolve()));
    clearTimeout(timer);
    watch.stdin!.write("stop\n");
    const watchTimer = setTimeout(() => watch.kill("SIGKILL"), 20000);
    await watchDone;
    clearTimeout(watchTimer);
    const last = watchOut.trim().split("\n").at(-1) ?? "";
    assert.ok(last.startsWith("{"), `no report from the watcher: ${watchOut} ${watchErr}`);
    return { server: out, watched: JSON.parse(last) };
  } finally {
    watch.kill("SIGKILL");
  }
}

/** The watcher: as nobody (and then connecting) where possible, else as this user, looking only. */
function watcherFor(t: { diagnostic(message: string): void }) {
  const other = otherUser();
  if (!("reason" in other)) return { ...other, connect: true };
  t.diagnostic(`the watcher cannot connect as another user (${other.reason}): it only looks`);
  const python = pythonFor([]);
  return python === null ? null : { prefix: [], python, connect: false };
}

function assertNeverExposed(watched: Watched, mode: number): void {
  assert.ok(watched.rounds >= 1000, `the watcher looked only ${watched.rounds} times`);
  assert.ok(
    watched.seen.some((s) => s.name === "app.sock" && s.kind === "socket" && s.mode === mode),
    `the watcher never saw the socket in place: ${JSON.stringify(watched.seen.slice(0, 20))}`,
  );
  const wide = watched.seen.filter((s) =>
    s.depth === 0 && (s.kind === "socket" ? (s.mode & ~mode) !== 0 : (s.mode & 0o077) !== 0)
  );
  assert.deepEqual(wide, [], "names reachable by others with more than the mode");
  assert.deepEqual(watched.connected, [], "connections another user made");
}

describe("under umask 000, watched from outside while a server binds again and again", () => {
  it(
    "serveFastCGI({ path }): 2000 binds (or 20 s), never a wider name",
    { timeout: 120000 },
    async (t) => {
      const watcher = watcherFor(t);
      if (watcher === null) {
        t.skip("python3 is not installed: it runs the watcher");
        return;
      }
      const dir = tempDir();
      fs.chmodSync(dir, 0o755);
      const argv = [
        ...runtimeCommand(fixture("bind_loop")),
        path.join(dir, "app.sock"),
        "2000",
        "660",
        "20",
      ];
      const { server, watched } = await watchWhile(dir, argv, watcher, 20);
      const done = /done (\d+)/.exec(server);
      assert.ok(done, `the server loop failed: ${server}`);
      t.diagnostic(`${done[1]} binds, ${watched.rounds} looks, ${watched.seen.length} names seen`);
      assert.ok(Number(done[1]) >= 200, `only ${done[1]} binds`);
      assertNeverExposed(watched, MODE);
      assert.deepEqual(fs.readdirSync(dir), [], "every bind cleaned up after itself");
    },
  );

  it(
    "node:cluster workers (the primary binds): 30 workers in turn, never a wider name",
    {
      timeout: 180000,
      skip: runtime === "deno"
        ? "Deno's node:cluster is not supported (webfcgi serve --workers refuses it)"
        : false,
    },
    async (t) => {
      const watcher = watcherFor(t);
      if (watcher === null) {
        t.skip("python3 is not installed: it runs the watcher");
        return;
      }
      const dir = tempDir();
      fs.chmodSync(dir, 0o755);
      const argv = [
        ...runtimeCommand(fixture("cluster_bind_loop")),
        path.join(dir, "app.sock"),
        "30",
        "660",
      ];
      const { server, watched } = await watchWhile(dir, argv, watcher, 60);
      assert.match(server, /done 30/, `the cluster loop failed: ${server}`);
      t.diagnostic(`${watched.rounds} looks, ${watched.seen.length} names seen`);
      assertNeverExposed(watched, MODE);
    },
  );
});
