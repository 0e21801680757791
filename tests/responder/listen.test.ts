// Where the server listens: TCP (IPv4, IPv6), Unix sockets (stale files,
// live ones, mode), and sockets inherited on fd 0 (spawn-fcgi) or fd 3
// (systemd socket activation), on the runtime that runs the tests.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { serveFastCGI } from "../../mod.ts";
import {
  fetchRaw,
  GET,
  parseCgi,
  RawConn,
  requestBytes,
  type Target,
} from "../support/fcgi_client.ts";
import { start, tempDir } from "../support/server.ts";
import {
  fixture,
  freePort,
  runtime,
  runtimeCommand,
  start as spawnChild,
  which,
} from "../fixtures/spawn.ts";

const hello = (request: Request) => new Response(`hello ${new URL(request.url).pathname}`);

async function ask(target: Target, uri = "/x"): Promise<string> {
  const r = await fetchRaw(target, { params: GET(uri) });
  r.conn.close();
  assert.equal(r.cgi.status, 200);
  return r.cgi.text;
}

function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host: "::1", port: 0 }, () => probe.close(() => resolve(true)));
  });
}

/** Connects, retrying while the socket is not there yet (a child is starting). */
async function connectRetry(target: Target, ms = 15000): Promise<RawConn> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await RawConn.connect(target);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe("listening on TCP", () => {
  it("127.0.0.1 with port 0 picks a port and serves", async () => {
    await using s = await start(hello, { hostname: "127.0.0.1", port: 0 });
    const addr = s.server.addr;
    assert.equal(addr.transport, "tcp");
    assert.ok(addr.transport === "tcp" && addr.hostname === "127.0.0.1" && addr.port > 0);
    assert.equal(await ask(s.target, "/v4"), "hello /v4");
  });

  it("::1 (IPv6 loopback)", async (t) => {
    if (!(await ipv6Loopback())) {
      t.skip("this machine has no IPv6 loopback");
      return;
    }
    await using s = await start(hello, { hostname: "::1", port: 0 });
    const addr = s.server.addr;
    assert.ok(addr.transport === "tcp", "tcp");
    assert.equal(addr.hostname, "::1");
    assert.equal(await ask({ hostname: "::1", port: addr.port }, "/v6"), "hello /v6");
  });

  it("server.addr throws before listening and is set once `listening` resolves", async () => {
    const server = serveFastCGI({ hostname: "127.0.0.1", port: 0, onListen() {} }, hello);
    assert.throws(() => server.addr, /not listening yet/);
    const addr = await server.listening;
    assert.deepEqual(server.addr, addr);
    await server.shutdown();
  });

  it("onListen gets the bound address", async () => {
    let seen: unknown;
    const server = serveFastCGI({
      hostname: "127.0.0.1",
      port: 0,
      onListen: (addr) => (seen = addr),
    }, hello);
    const addr = await server.listening;
    assert.deepEqual(seen, addr);
    await server.shutdown();
  });

  it("a port in use rejects `listening` and `finished`", async () => {
    await using a = await start(hello);
    const port = (a.target as { port: number }).port;
    const b = serveFastCGI({ hostname: "127.0.0.1", port, onListen() {} }, hello);
    await assert.rejects(b.listening, /EADDRINUSE|in use/i);
    await assert.rejects(b.finished, /EADDRINUSE|in use/i);
    await b.shutdown(); // harmless
    assert.equal(await ask(a.target), "hello /x");
  });

  it("a caller who awaits `listening` has handled a bind failure: no unhandled rejection", async () => {
    await using a = await start(hello);
    const port = (a.target as { port: number }).port;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const b = serveFastCGI({ hostname: "127.0.0.1", port, onListen() {} }, hello);
      try {
        await b.listening;
        assert.fail("listening should reject");
      } catch (error) {
        assert.match(String(error), /EADDRINUSE|in use/i);
      }
      // `finished` rejects too; nobody awaits it here
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    assert.deepEqual(unhandled.map(String), []);
  });
});

describe("listening on a Unix socket", () => {
  it("serves on a path and reports it", async () => {
    const file = path.join(tempDir(), "app.sock");
    await using s = await start(hello, { path: file });
    assert.deepEqual(s.server.addr, { transport: "unix", path: file });
    assert.ok(fs.statSync(file).isSocket());
    assert.equal(await ask({ path: file }, "/unix"), "hello /unix");
  });

  it("replaces a stale socket file left by a killed process", { timeout: 30000 }, async () => {
    const file = path.join(tempDir(), "stale.sock");
    const holder = spawnChild([...runtimeCommand(fixture("hold_socket")), file]);
    try {
      await holder.waitFor("ready");
    } finally {
      await holder.kill("SIGKILL");
    }
    assert.ok(fs.statSync(file).isSocket(), "the killed process left its socket file");
    await assert.rejects(RawConn.connect({ path: file }), /ECONNREFUSED|refused/i);
    await using s = await start(hello, { path: file });
    assert.equal(await ask({ path: file }, "/fresh"), "hello /fresh");
    assert.deepEqual(s.server.addr, { transport: "unix", path: file });
  });

  it("does not steal a live socket: listening rejects, the other server keeps working", async () => {
    const file = path.join(tempDir(), "live.sock");
    await using a = await start(() => new Response("first"), { path: file });
    const b = serveFastCGI({ path: file, onListen() {} }, () => new Response("second"));
    await assert.rejects(b.listening, /EADDRINUSE|in use/i);
    await assert.rejects(b.finished, /EADDRINUSE|in use/i);
    assert.ok(fs.statSync(file).isSocket());
    assert.equal(await ask(a.target), "first");
  });

  it("does not remove a regular file in the way", async () => {
    const file = path.join(tempDir(), "not-a-socket");
    fs.writeFileSync(file, "precious");
    const b = serveFastCGI({ path: file, onListen() {} }, hello);
    await assert.rejects(b.listening, /EADDRINUSE|in use/i);
    await assert.rejects(b.finished);
    assert.equal(fs.readFileSync(file, "utf8"), "precious");
  });

  for (const mode of [0o600, 0o660, 0o666]) {
    it(`mode ${mode.toString(8)} sets the socket file's permissions`, async () => {
      const file = path.join(tempDir(), "mode.sock");
      await using s = await start(hello, { path: file, mode });
      assert.equal(fs.statSync(file).mode & 0o777, mode);
      assert.equal(await ask(s.target), "hello /x");
    });
  }

  it("shutdown removes the socket file", async () => {
    const file = path.join(tempDir(), "gone.sock");
    const s = await start(hello, { path: file });
    await s.server.shutdown();
    assert.equal(fs.existsSync(file), false);
  });
});

// --- inherited sockets -------------------------------------------------------

const python = which("python3");
/** Runs the rest of argv with a connected socketpair as fd 0 (as a Node or Bun parent's 'pipe' gives). */
const SOCKETPAIR_STDIN =
  "import os,socket,sys; a,b=socket.socketpair(); os.dup2(a.fileno(),0); b.set_inheritable(True); os.execv(sys.argv[1], sys.argv[1:])";
const spawnFcgi = which("spawn-fcgi");
const socketActivate = which("systemd-socket-activate");
const noSpawnFcgi = spawnFcgi === null
  ? "spawn-fcgi is not installed (apt-get install spawn-fcgi)"
  : false;
const noActivate = socketActivate === null
  ? "systemd-socket-activate is not installed (apt-get install systemd)"
  : false;

interface AppAnswer {
  url: string;
  pid: number;
  role: string;
  addr: { transport: string; path?: string; hostname?: string; port?: number };
  listenFds: string | null;
}

/** Starts the fd0 app under `wrapper`, asks it one request at `target`, and kills it. */
async function viaInherited(
  wrapper: string[],
  target: Target,
  env: Record<string, string | undefined> = {},
): Promise<{ answer: AppAnswer; pid: number }> {
  const child = spawnChild([...wrapper, ...runtimeCommand(fixture("fd0_app"))], {
    FCGI_WEB_SERVER_ADDRS: undefined,
    LISTEN_FDS: undefined,
    LISTEN_PID: undefined,
    ...env,
  });
  try {
    const answers: AppAnswer[] = [];
    for (let i = 0; i < 2; i++) {
      const conn = await connectRetry(target);
      await conn.write(requestBytes({ params: GET(`/inherited/${i}`) }));
      const reply = await conn.reply(1, 20000).catch((error) => {
        throw new Error(`${error.message}\nchild output:\n${child.output()}`);
      });
      conn.close();
      const cgi = parseCgi(reply.stdout);
      assert.equal(cgi.status, 200, child.output());
      answers.push(JSON.parse(cgi.text));
    }
    assert.equal(answers[1].pid, answers[0].pid);
    assert.equal(answers[1].url, "http://example.test/inherited/1");
    return { answer: answers[0], pid: child.process.pid! };
  } finally {
    await child.kill("SIGKILL");
  }
}

describe(`inherited listening sockets (${runtime})`, () => {
  it("fd 0 = AF_UNIX socket from spawn-fcgi, found with no address option", {
    skip: noSpawnFcgi,
    timeout: 40000,
  }, async () => {
    const file = path.join(tempDir(), "fd0.sock");
    const { answer, pid } = await viaInherited([spawnFcgi!, "-n", "-s", file, "--"], {
      path: file,
    });
    assert.equal(answer.pid, pid, "spawn-fcgi -n execs the app in its own process");
    assert.equal(answer.addr.transport, "unix");
    assert.equal(answer.url, "http://example.test/inherited/0");
    assert.equal(answer.listenFds, null);
  });

  it(
    "fd 0 = AF_INET socket from spawn-fcgi -a -p",
    { skip: noSpawnFcgi, timeout: 40000 },
    async () => {
      const port = await freePort();
      const { answer } = await viaInherited(
        [spawnFcgi!, "-n", "-a", "127.0.0.1", "-p", String(port), "--"],
        { hostname: "127.0.0.1", port },
      );
      assert.deepEqual(answer.addr, { transport: "tcp", hostname: "127.0.0.1", port });
    },
  );

  it("explicit { fd: 0 }", { skip: noSpawnFcgi, timeout: 40000 }, async () => {
    const file = path.join(tempDir(), "fd0x.sock");
    const { answer } = await viaInherited([spawnFcgi!, "-n", "-s", file, "--"], { path: file }, {
      WEBFCGI_TEST_FD: "0",
    });
    assert.equal(answer.addr.transport, "unix");
  });

  it("fd 0 keeps working with FCGI_WEB_SERVER_ADDRS set (Unix peers are not filtered)", {
    skip: noSpawnFcgi,
    timeout: 40000,
  }, async () => {
    const file = path.join(tempDir(), "fd0f.sock");
    const { answer } = await viaInherited([spawnFcgi!, "-n", "-s", file, "--"], { path: file }, {
      FCGI_WEB_SERVER_ADDRS: "10.9.8.7",
    });
    assert.equal(answer.addr.transport, "unix");
  });

  it("a connected socket on fd 0 is not a listening one: falls back to 127.0.0.1:9000", {
    skip: python === null ? "python3 is needed to put a socketpair on fd 0" : false,
    timeout: 40000,
  }, async () => {
    // Node and Bun give a child started with stdio 'pipe' a socketpair as
    // stdin; such an app must not die with "cannot listen on fd 0: EINVAL".
    const child = spawnChild([
      python!,
      "-c",
      SOCKETPAIR_STDIN,
      ...runtimeCommand(fixture("fd0_app")),
    ], {
      FCGI_WEB_SERVER_ADDRS: undefined,
      LISTEN_FDS: undefined,
      LISTEN_PID: undefined,
    });
    try {
      const listening = 'listening {"transport":"tcp","hostname":"127.0.0.1","port":9000}';
      const busy = "cannot listen on 127.0.0.1:9000"; // someone else has port 9000: still no fd 0 error
      await Promise.any([child.waitFor(listening), child.waitFor(busy)]).catch(() => {
        throw new Error(`neither fallback line came:\n${child.output()}`);
      });
      assert.doesNotMatch(child.output(), /fd 0/);
      if (child.output().includes(listening)) {
        const r = await fetchRaw({ hostname: "127.0.0.1", port: 9000 }, {
          params: GET("/fallback"),
        });
        r.conn.close();
        assert.equal(JSON.parse(r.cgi.text).pid, child.process.pid);
      }
    } finally {
      await child.kill("SIGKILL");
    }
  });

  it("systemd socket activation: LISTEN_FDS=1, LISTEN_PID, socket on fd 3 (Unix)", {
    skip: noActivate,
    timeout: 40000,
  }, async () => {
    const file = path.join(tempDir(), "sd.sock");
    // systemd-socket-activate binds, waits for the first connection, then
    // execs the app in its own process, so LISTEN_PID is the app's pid.
    const { answer, pid } = await viaInherited([socketActivate!, "-l", file], { path: file });
    assert.equal(answer.pid, pid);
    assert.equal(answer.listenFds, "1");
    assert.equal(answer.addr.transport, "unix");
  });

  it("systemd socket activation on TCP, and with explicit { fd: 3 }", {
    skip: noActivate,
    timeout: 40000,
  }, async () => {
    const port = await freePort();
    const { answer } = await viaInherited(
      [socketActivate!, "-l", `127.0.0.1:${port}`],
      { hostname: "127.0.0.1", port },
      { WEBFCGI_TEST_FD: "3" },
    );
    assert.equal(answer.listenFds, "1");
    assert.deepEqual(answer.addr, { transport: "tcp", hostname: "127.0.0.1", port });
  });
});
