// FCGI_ABORT_REQUEST and connection loss: request.signal, body streams,
// exactly one END_REQUEST, nothing leaked into a reused request id.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import {
  begin,
  concat,
  GET,
  pairs,
  parseCgi,
  RawConn,
  rec,
  requestBytes,
  stream,
  T,
} from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";
import { trackUnhandledRejections, within } from "../support/wait.ts";

const unhandled = trackUnhandledRejections();

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  settled: () => boolean;
} {
  let resolve!: (value: T) => void;
  let done = false;
  const promise = new Promise<T>((r) => (resolve = (v) => {
    done = true;
    r(v);
  }));
  return { promise, resolve, settled: () => done };
}

interface Observed {
  aborted: boolean;
  reason: unknown;
  readError: unknown;
}

function watch(req: Request, onAbort?: () => void): Observed {
  const seen: Observed = { aborted: false, reason: undefined, readError: undefined };
  req.signal.addEventListener("abort", () => {
    seen.aborted = req.signal.aborted;
    seen.reason = req.signal.reason;
    onAbort?.();
  });
  return seen;
}

function assertAbortReason(reason: unknown): void {
  assert.ok(reason instanceof Error, `reason is an Error: ${reason}`);
  assert.equal(reason.name, "AbortError");
}

const ofId = (conn: RawConn, id: number) => conn.records.filter((r) => r.id === id);
const endsOf = (conn: RawConn, id: number) => ofId(conn, id).filter((r) => r.type === T.END);

/** Sends a fresh request with `id` and checks its reply is exactly "fresh". */
async function assertFresh(conn: RawConn, id = 1): Promise<void> {
  conn.clear();
  await conn.write(requestBytes({ id, keepConn: true, params: GET("/fresh") }));
  const reply = await conn.reply(id, 3000);
  assert.equal(reply.protocolStatus, 0);
  assert.equal(reply.appStatus, 0);
  const cgi = parseCgi(reply.stdout);
  assert.equal(cgi.status, 200);
  assert.equal(cgi.text, "fresh");
  assert.equal(reply.records.filter((r) => r.type === T.END).length, 1);
  const raw = dec.decode(
    concat(conn.records.filter((r) => r.type === T.STDOUT).map((r) => r.content)),
  );
  assert.ok(
    !raw.includes("LEAK") && !raw.includes("tick"),
    `no bytes from the aborted handler: ${JSON.stringify(raw)}`,
  );
}

describe("FCGI_ABORT_REQUEST", () => {
  it("fires request.signal, errors the body being read, one END_REQUEST, a late Response is dropped; id 1 is reused cleanly", async () => {
    let seen: Observed | undefined;
    const reading = deferred();
    const lateCancelled = deferred();
    const handlerReturned = deferred();
    await using s = await start(async (req) => {
      if (new URL(req.url).pathname === "/fresh") return new Response("fresh");
      const observed = watch(req);
      seen = observed;
      const reader = req.body!.getReader();
      try {
        for (;;) {
          const { done } = await reader.read();
          reading.resolve();
          if (done) break;
        }
      } catch (error) {
        observed.readError = error;
      }
      await sleep(30);
      handlerReturned.resolve();
      return new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(enc.encode("LEAKED"));
          },
          cancel() {
            lateCancelled.resolve();
          },
        }),
      );
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(concat([
      begin(1, 1, true),
      stream(T.PARAMS, 1, pairs(GET("/upload", { REQUEST_METHOD: "POST", CONTENT_LENGTH: "10" }))),
      rec(T.STDIN, 1, enc.encode("hello")),
    ]));
    await within(reading.promise, 3000, "handler reading the body");
    await conn.write(rec(T.ABORT, 1));
    const reply = await conn.reply(1, 3000);
    assert.equal(reply.protocolStatus, 0, "FCGI_REQUEST_COMPLETE");
    assert.equal(reply.stdout.length, 0);
    await within(handlerReturned.promise, 3000, "handler returned");
    await within(lateCancelled.promise, 3000, "the late response body was cancelled");
    assert.ok(seen!.aborted, "request.signal aborted");
    assertAbortReason(seen!.reason);
    assert.ok(seen!.readError !== undefined, "the body read failed");
    // Late STDIN for the aborted (now inactive) id is ignored.
    await conn.write(concat([rec(T.STDIN, 1, enc.encode("world")), rec(T.STDIN, 1)]));
    await sleep(50);
    const mine = ofId(conn, 1);
    assert.equal(endsOf(conn, 1).length, 1, "exactly one END_REQUEST");
    assert.equal(mine.at(-1)!.type, T.END, "nothing after END_REQUEST");
    assert.ok(!mine.some((r) => r.type === T.STDOUT && r.content.length > 0), "no STDOUT data");
    assert.equal(conn.isClosed, false);
    await assertFresh(conn, 1);
    conn.close();
  });

  it("stops a streaming response: one END_REQUEST, the body is cancelled, later enqueues go nowhere", async () => {
    let seen: Observed | undefined;
    const cancelled = deferred<unknown>();
    let enqueuedAfterCancel = 0;
    let failedEnqueues = 0;
    const stopped = deferred();
    await using s = await start((req) => {
      if (new URL(req.url).pathname === "/fresh") return new Response("fresh");
      seen = watch(req);
      let timer: ReturnType<typeof setInterval> | undefined;
      let ticks = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            timer = setInterval(() => {
              // An ill-behaved producer: it ignores cancel and keeps going a while.
              if (++ticks > 40) {
                clearInterval(timer);
                stopped.resolve();
                return;
              }
              try {
                controller.enqueue(enc.encode(`tick${ticks};`));
                if (cancelled.settled()) enqueuedAfterCancel++;
              } catch {
                failedEnqueues++;
              }
            }, 5);
          },
          cancel(reason) {
            cancelled.resolve(reason);
          },
        }),
      );
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/stream") }));
    const ticking = await conn.until(
      () =>
        ofId(conn, 1).filter((r) => r.type === T.STDOUT && dec.decode(r.content).startsWith("tick"))
          .length >= 2,
      3000,
    );
    assert.ok(ticking, "the response is streaming");
    await conn.write(rec(T.ABORT, 1));
    await conn.reply(1, 3000);
    await within(cancelled.promise, 3000, "the response body was cancelled");
    await within(stopped.promise, 3000, "producer finished");
    await sleep(30);
    assert.ok(seen!.aborted);
    assertAbortReason(seen!.reason);
    assert.equal(endsOf(conn, 1).length, 1, "exactly one END_REQUEST");
    assert.equal(ofId(conn, 1).at(-1)!.type, T.END, "nothing after END_REQUEST");
    assert.ok(enqueuedAfterCancel + failedEnqueues > 0, "the producer kept trying after the abort");
    await assertFresh(conn, 1);
    conn.close();
  });

  it("errors a body that came whole but was not read yet: no silently shortened body", async () => {
    const started = deferred();
    const aborted = deferred();
    let result: { text: string } | { error: unknown } | undefined;
    await using s = await start(async (req) => {
      if (new URL(req.url).pathname === "/fresh") return new Response("fresh");
      started.resolve();
      await aborted.promise; // the rest of the body and the abort come meanwhile
      try {
        result = { text: await req.text() };
      } catch (error) {
        result = { error };
      }
      return new Response("late");
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(concat([
      begin(1, 1, true),
      stream(T.PARAMS, 1, pairs(GET("/upload", { REQUEST_METHOD: "POST", CONTENT_LENGTH: "10" }))),
      rec(T.STDIN, 1, enc.encode("hello")),
    ]));
    await within(started.promise, 3000, "handler started");
    // The body ends while the handler has read none of it; then the abort.
    await conn.write(concat([rec(T.STDIN, 1, enc.encode("world")), rec(T.STDIN, 1)]));
    await sleep(50);
    await conn.write(rec(T.ABORT, 1));
    await conn.reply(1, 3000);
    aborted.resolve();
    for (let i = 0; i < 100 && result === undefined; i++) await sleep(10);
    assert.ok(
      result !== undefined && "error" in result,
      `the read failed: ${JSON.stringify(result)}`,
    );
    assertAbortReason(result.error);
    await assertFresh(conn, 1);
    conn.close();
  });

  it("before the params are complete: one END_REQUEST and the handler never runs", async () => {
    let calls = 0;
    await using s = await start((req) => {
      calls++;
      return new Response(new URL(req.url).pathname === "/fresh" ? "fresh" : "LEAKED");
    });
    const conn = await RawConn.connect(s.target);
    const p = pairs(GET("/never"));
    await conn.write(concat([begin(1, 1, true), rec(T.PARAMS, 1, p.subarray(0, 20))]));
    await conn.write(rec(T.ABORT, 1));
    const reply = await conn.reply(1, 3000);
    assert.equal(reply.protocolStatus, 0);
    // The rest of the aborted request is for an inactive id now.
    await conn.write(concat([rec(T.PARAMS, 1, p.subarray(20)), rec(T.PARAMS, 1), rec(T.STDIN, 1)]));
    await sleep(50);
    assert.equal(calls, 0);
    assert.equal(endsOf(conn, 1).length, 1);
    await assertFresh(conn, 1);
    assert.equal(calls, 1);
    conn.close();
  });

  it("while the response is blocked on a full socket: one END_REQUEST, the body is cancelled, nothing after", async () => {
    let pulls = 0;
    let seen: Observed | undefined;
    const cancelled = deferred<unknown>();
    const chunk = new Uint8Array(65536).fill(120);
    await using s = await start((req) => {
      if (new URL(req.url).pathname === "/fresh") return new Response("fresh");
      seen = watch(req);
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulls++;
            controller.enqueue(chunk);
          },
          cancel(reason) {
            cancelled.resolve(reason);
          },
        }, { highWaterMark: 0 }),
      );
    });
    const conn = await RawConn.connect(s.target);
    conn.socket.pause();
    await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/big") }));
    // Wait until the producer stalls: the socket is full.
    let last = -1;
    for (let i = 0; i < 300 && pulls !== last; i++) {
      last = pulls;
      await sleep(20);
    }
    assert.ok(pulls > 1 && pulls === last, `the response stalled on backpressure (${pulls} pulls)`);
    await conn.write(rec(T.ABORT, 1));
    await within(cancelled.promise, 3000, "the blocked response body was cancelled");
    assert.ok(seen!.aborted);
    conn.socket.resume();
    await conn.reply(1, 5000);
    await sleep(50);
    const mine = ofId(conn, 1);
    assert.equal(mine.filter((r) => r.type === T.END).length, 1, "exactly one END_REQUEST");
    assert.equal(mine.at(-1)!.type, T.END, "nothing after END_REQUEST");
    const body = mine.filter((r) => r.type === T.STDOUT).reduce((n, r) => n + r.content.length, 0);
    assert.ok(body < pulls * chunk.length + 1000, "no more than what was produced");
    await assertFresh(conn, 1);
    conn.close();
  });

  it("only the aborted request of two multiplexed ones stops", async () => {
    const gate = deferred();
    const started: number[] = [];
    let seen3: Observed | undefined;
    await using s = await start(async (req, info) => {
      started.push(info.requestId);
      if (info.requestId === 3) seen3 = watch(req);
      await gate.promise;
      return new Response(`done ${info.requestId}`);
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(concat([
      requestBytes({ id: 1, keepConn: true, params: GET("/1") }),
      requestBytes({ id: 3, keepConn: true, params: GET("/3") }),
    ]));
    const t0 = Date.now();
    while (started.length < 2 && Date.now() - t0 < 3000) await sleep(5);
    await conn.write(rec(T.ABORT, 1));
    assert.equal((await conn.reply(1, 3000)).protocolStatus, 0);
    assert.equal(seen3!.aborted, false);
    gate.resolve();
    const three = await conn.reply(3, 3000);
    assert.equal(parseCgi(three.stdout).text, "done 3");
    await sleep(30);
    assert.equal(endsOf(conn, 1).length, 1);
    assert.ok(!ofId(conn, 1).some((r) => r.type === T.STDOUT && r.content.length > 0));
    conn.close();
  });
});

describe("connection loss", () => {
  const variants: Array<{ name: string; unix: boolean; kill: (socket: net.Socket) => void }> = [
    { name: "destroy (tcp)", unix: false, kill: (socket) => socket.destroy() },
    { name: "destroy (unix)", unix: true, kill: (socket) => socket.destroy() },
  ];
  if (typeof net.Socket.prototype.resetAndDestroy === "function") {
    variants.push({
      name: "resetAndDestroy (tcp)",
      unix: false,
      kill: (socket) => socket.resetAndDestroy(),
    });
  }
  for (const variant of variants) {
    it(`closing the connection aborts every request in flight on it: ${variant.name}`, async () => {
      const seen = new Map<number, Observed>();
      const cancelled = deferred();
      const aborted = new Map<number, ReturnType<typeof deferred<void>>>(
        [1, 3, 5].map((id) => [id, deferred<void>()]),
      );
      const readFailed = deferred();
      const started = new Set<number>();
      await using s = await start(async (req, info) => {
        if (new URL(req.url).pathname === "/fresh") return new Response("fresh");
        const id = info.requestId;
        seen.set(id, watch(req, () => aborted.get(id)!.resolve()));
        started.add(id);
        if (id === 1) {
          // A streaming response that never ends by itself.
          return new Response(
            new ReadableStream<Uint8Array>({
              async pull(controller) {
                await sleep(5);
                controller.enqueue(enc.encode("tick;"));
              },
              cancel() {
                cancelled.resolve();
              },
            }),
          );
        }
        if (id === 5) {
          try {
            await req.text();
          } catch (error) {
            seen.get(5)!.readError = error;
            readFailed.resolve();
          }
          return new Response("after read");
        }
        await new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve()));
        return new Response("LEAKED");
      }, { unix: variant.unix });
      const conn = await RawConn.connect(s.target);
      await conn.write(concat([
        requestBytes({ id: 1, keepConn: true, params: GET("/stream") }),
        requestBytes({ id: 3, keepConn: true, params: GET("/wait") }),
        begin(5, 1, true),
        stream(
          T.PARAMS,
          5,
          pairs(GET("/upload", { REQUEST_METHOD: "POST", CONTENT_LENGTH: "100" })),
        ),
        rec(T.STDIN, 5, enc.encode("partial")),
      ]));
      const ok = await conn.until(
        () =>
          started.size === 3 &&
          ofId(conn, 1).some((r) => r.type === T.STDOUT && dec.decode(r.content) === "tick;"),
        3000,
      );
      assert.ok(ok, "all three requests running, id 1 streaming");
      variant.kill(conn.socket);
      await within(
        Promise.all([...aborted.values()].map((d) => d.promise)),
        3000,
        "every request.signal fired",
      );
      await within(cancelled.promise, 3000, "the streaming body was cancelled");
      await within(readFailed.promise, 3000, "the body read failed");
      for (const id of [1, 3, 5]) {
        assert.ok(seen.get(id)!.aborted, `request ${id} aborted`);
        assertAbortReason(seen.get(id)!.reason);
      }
      // The server is fine: a new connection works.
      const fresh = await RawConn.connect(s.target);
      await assertFresh(fresh, 1);
      fresh.close();
    });
  }

  it("a response blocked on a full socket is cancelled when the connection closes", async () => {
    let pulls = 0;
    let seen: Observed | undefined;
    const cancelled = deferred<unknown>();
    const aborted = deferred();
    const chunk = new Uint8Array(65536).fill(120);
    await using s = await start((req) => {
      if (new URL(req.url).pathname === "/fresh") return new Response("fresh");
      seen = watch(req, () => aborted.resolve());
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulls++;
            controller.enqueue(chunk);
          },
          cancel(reason) {
            cancelled.resolve(reason);
          },
        }, { highWaterMark: 0 }),
      );
    });
    const conn = await RawConn.connect(s.target);
    conn.socket.pause();
    await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/big") }));
    let last = -1;
    for (let i = 0; i < 300 && pulls !== last; i++) {
      last = pulls;
      await sleep(20);
    }
    assert.ok(pulls > 1 && pulls === last, `the response stalled on backpressure (${pulls} pulls)`);
    conn.socket.destroy();
    await within(cancelled.promise, 3000, "the blocked response body was cancelled");
    await within(aborted.promise, 3000, "request.signal fired");
    assertAbortReason(seen!.reason);
    const fresh = await RawConn.connect(s.target);
    await assertFresh(fresh, 1);
    fresh.close();
  });

  it("no unhandled rejection happened", async () => {
    await sleep(20);
    assert.deepEqual(unhandled, []);
  });
});
