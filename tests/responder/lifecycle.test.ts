// Server lifecycle: graceful shutdown, shutdownTimeout, the signal option,
// `await using`, and shutting down before listening has finished.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { serveFastCGI } from "../../mod.ts";
import {
  begin,
  concat,
  GET,
  pairs,
  parseCgi,
  RawConn,
  rec,
  requestBytes,
  T,
  type Target,
} from "../support/fcgi_client.ts";
import { sleep, start, tempDir } from "../support/server.ts";

const OVERLOADED = 2;

function deferred<V = void>(): { promise: Promise<V>; resolve: (value: V) => void } {
  let resolve!: (value: V) => void;
  const promise = new Promise<V>((r) => (resolve = r));
  return { promise, resolve };
}

/** true if `promise` settles within `ms`. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(() => true, () => true),
    sleep(ms).then(() => false),
  ]);
}

async function isRefused(target: Target): Promise<boolean> {
  try {
    const conn = await RawConn.connect(target);
    // Some runtimes complete the handshake in the kernel backlog of a socket
    // that is being closed; then the connection must be dropped unanswered.
    await conn.write(requestBytes({ params: GET("/late") })).catch(() => {});
    await within(conn.closed, 2000);
    const answered = conn.records.length > 0;
    conn.close();
    return !answered;
  } catch {
    return true;
  }
}

function body(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + 3) & 255;
  return out;
}

describe("graceful shutdown", () => {
  it(
    "lets the in-flight request finish, refuses new work, closes idle connections, then finishes",
    {
      timeout: 20000,
    },
    async () => {
      const gate = deferred();
      const slowStarted = deferred();
      let aborted = false;
      const big = body(2 << 20);
      const s = await start(async (request) => {
        if (new URL(request.url).pathname !== "/slow") return new Response("quick");
        request.signal.addEventListener("abort", () => (aborted = true));
        slowStarted.resolve();
        await gate.promise;
        let sent = 0;
        return new Response(
          new ReadableStream({
            pull(controller) {
              if (sent >= big.length) return controller.close();
              controller.enqueue(big.subarray(sent, sent + 100000));
              sent += 100000;
            },
          }),
        );
      });
      const busy = await RawConn.connect(s.target);
      await busy.write(requestBytes({ params: GET("/slow"), keepConn: true }));
      await slowStarted.promise;

      const idle = await RawConn.connect(s.target);
      await idle.write(requestBytes({ params: GET("/quick"), keepConn: true }));
      assert.equal(parseCgi((await idle.reply(1)).stdout).text, "quick");
      const silent = await RawConn.connect(s.target); // connected, never sent a byte
      await sleep(50);

      let finished = false;
      s.server.finished.then(() => (finished = true));
      const shutdown = s.server.shutdown();
      assert.equal(s.server.shutdown(), shutdown, "shutdown() is idempotent");

      assert.ok(await within(idle.closed, 2000), "the idle keep-conn connection was closed");
      assert.ok(await within(silent.closed, 2000), "the silent connection was closed");
      assert.ok(await isRefused(s.target), "new connections are refused");

      // A new request on the busy connection is refused with FCGI_OVERLOADED.
      await busy.write(
        concat([
          begin(2, 1, true),
          rec(T.PARAMS, 2, pairs(GET("/more"))),
          rec(T.PARAMS, 2),
          rec(T.STDIN, 2),
        ]),
      );
      const second = await busy.reply(2);
      assert.equal(second.protocolStatus, OVERLOADED);
      assert.equal(second.stdout.length, 0);

      await sleep(200);
      assert.equal(finished, false, "finished waits for the in-flight request");
      assert.equal(busy.isClosed, false);

      gate.resolve();
      const reply = await busy.reply(1);
      assert.equal(reply.appStatus, 0);
      assert.equal(reply.protocolStatus, 0);
      const cgi = parseCgi(reply.stdout);
      assert.equal(cgi.status, 200);
      assert.equal(cgi.body.length, big.length);
      assert.deepEqual(cgi.body, big);
      assert.equal(aborted, false, "a graceful shutdown does not abort the request");
      assert.ok(await within(busy.closed, 2000), "the connection closes after its last request");
      assert.ok(await within(shutdown, 2000), "shutdown() resolves");
      assert.equal(finished, true);
      for (const conn of [busy, idle, silent]) conn.close();
    },
  );

  it("resolves promptly with no connections", async () => {
    const s = await start(() => new Response("x"));
    const t0 = Date.now();
    await s.server.shutdown();
    await s.server.finished;
    assert.ok(Date.now() - t0 < 1000);
  });

  it("a Unix socket server removes its file and refuses new connections", async () => {
    const file = path.join(tempDir(), "life.sock");
    const s = await start(() => new Response("x"), { path: file });
    await s.server.shutdown();
    assert.equal(fs.existsSync(file), false);
    assert.ok(await isRefused({ path: file }));
  });
});

describe("shutdownTimeout", () => {
  it("aborts a handler that never answers: request.signal fires and finished resolves", {
    timeout: 10000,
  }, async () => {
    const started = deferred();
    let reason: unknown;
    const s = await start((request) => {
      started.resolve();
      return new Promise<Response>((_, reject) => {
        request.signal.addEventListener("abort", () => {
          reason = request.signal.reason;
          reject(request.signal.reason);
        });
      });
    }, { shutdownTimeout: 200 });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params: GET("/forever"), keepConn: true }));
    await started.promise;
    const t0 = Date.now();
    await s.server.shutdown();
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 150 && elapsed < 2000, `finished after ${elapsed} ms`);
    assert.ok(reason instanceof Error && reason.name === "AbortError", String(reason));
    // The web server is told the request is over, and that it failed.
    const reply = await conn.reply(1, 2000);
    assert.notEqual(reply.appStatus, 0);
    assert.ok(await within(conn.closed, 2000));
    conn.close();
  });

  it(
    "aborts a response body that never ends: the stream is cancelled",
    { timeout: 10000 },
    async () => {
      const cancelled = deferred<unknown>();
      let signalled = false;
      const s = await start((request) => {
        request.signal.addEventListener("abort", () => (signalled = true));
        return new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode("partial"));
            },
            cancel(reason) {
              cancelled.resolve(reason);
            },
          }),
        );
      }, { shutdownTimeout: 200 });
      const conn = await RawConn.connect(s.target);
      await conn.write(requestBytes({ params: GET("/stream"), keepConn: true }));
      assert.ok(
        await conn.until(() =>
          conn.records.some((r) => r.type === T.STDOUT && r.content.length > 0)
        ),
      );
      const t0 = Date.now();
      await s.server.shutdown();
      assert.ok(Date.now() - t0 < 2000);
      assert.ok(await within(cancelled.promise, 1000), "the response body was cancelled");
      assert.equal(signalled, true);
      assert.ok(await within(conn.closed, 2000));
      conn.close();
    },
  );

  it("without shutdownTimeout, a slow request is waited for", { timeout: 10000 }, async () => {
    const s = await start(async () => {
      await sleep(600);
      return new Response("late");
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params: GET("/late") }));
    await sleep(50);
    const t0 = Date.now();
    await s.server.shutdown();
    assert.ok(Date.now() - t0 >= 400);
    assert.equal(parseCgi((await conn.reply(1)).stdout).text, "late");
    conn.close();
  });
});

describe("other ways to stop", () => {
  it("aborting the `signal` option shuts the server down", { timeout: 10000 }, async () => {
    const controller = new AbortController();
    const s = await start(() => new Response("x"), { signal: controller.signal });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params: GET("/"), keepConn: true }));
    await conn.reply(1);
    controller.abort();
    assert.ok(await within(s.server.finished, 2000), "finished resolves");
    assert.ok(await within(conn.closed, 2000), "the idle connection was closed");
    assert.ok(await isRefused(s.target));
    conn.close();
  });

  it("an already aborted `signal` stops the server at once", async () => {
    const server = serveFastCGI(
      { hostname: "127.0.0.1", port: 0, onListen() {}, signal: AbortSignal.abort() },
      () => new Response("x"),
    );
    assert.ok(await within(server.finished, 2000));
    const addr = await server.listening;
    assert.ok(addr.transport === "tcp");
    assert.ok(await isRefused({ hostname: "127.0.0.1", port: addr.port }));
  });

  it("`await using` shuts the server down at the end of the scope", async () => {
    let finished = false;
    let target: Target;
    {
      await using server = serveFastCGI(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        () => new Response("in scope"),
      );
      server.finished.then(() => (finished = true));
      const addr = await server.listening;
      assert.ok(addr.transport === "tcp");
      target = { hostname: "127.0.0.1", port: addr.port };
      const conn = await RawConn.connect(target);
      await conn.write(requestBytes({ params: GET("/") }));
      assert.equal(parseCgi((await conn.reply(1)).stdout).text, "in scope");
      conn.close();
      assert.equal(finished, false);
    }
    assert.equal(finished, true);
    assert.ok(await isRefused(target));
  });

  it("shutdown() before listening has finished", async () => {
    const file = path.join(tempDir(), "early.sock");
    let listened = false;
    const server = serveFastCGI(
      { path: file, onListen: () => (listened = true) },
      () => new Response("x"),
    );
    const shutdown = server.shutdown();
    assert.ok(await within(shutdown, 2000), "shutdown resolves");
    assert.ok(await within(server.finished, 100), "finished resolves");
    await server.listening; // it did bind, then closed
    assert.equal(listened, false, "onListen is not called for a server that is already stopping");
    assert.equal(fs.existsSync(file), false);
    assert.ok(await isRefused({ path: file }));
  });

  it("shutdown() of a server that could not listen resolves; finished rejects", async () => {
    await using a = await start(() => new Response("a"));
    const port = (a.target as { port: number }).port;
    const b = serveFastCGI({ hostname: "127.0.0.1", port, onListen() {} }, () => new Response("b"));
    await assert.rejects(b.finished, /EADDRINUSE|in use/i);
    assert.ok(await within(b.shutdown(), 1000));
  });
});
