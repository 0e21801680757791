// Handler failures become clean 500s; malformed input closes only the
// connection it came on.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { FastCGIHandler } from "../../mod.ts";
import {
  begin,
  concat,
  fetchRaw,
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
import { deferred, trackUnhandledRejections, within } from "../support/wait.ts";

const unhandled = trackUnhandledRejections();

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const SECRET = "s3cret-detail-do-not-leak";

/** A 500 that tells the client nothing about the failure. */
function assertGeneric500(stdout: Uint8Array): void {
  const cgi = parseCgi(stdout);
  assert.equal(cgi.status, 500);
  const all = dec.decode(stdout);
  assert.ok(!all.includes("Error:"), `no "Error:" in ${JSON.stringify(all)}`);
  assert.ok(!all.includes(SECRET), "no error message");
  assert.ok(
    !/\bat \S+ \(|\.ts:\d+|\.js:\d+|file:\/\//.test(all),
    `no stack or path in ${JSON.stringify(all)}`,
  );
  assert.ok(cgi.text.length > 0 && cgi.text.length < 100, "a short generic body");
}

describe("handler failures", () => {
  const failing: Array<[string, FastCGIHandler]> = [
    ["throws synchronously", () => {
      throw new Error(SECRET);
    }],
    ["rejects (async throw)", async () => {
      await sleep(1);
      throw new TypeError(SECRET);
    }],
    ["throws a non-Error", () => {
      throw SECRET;
    }],
  ];
  for (const [name, handler] of failing) {
    it(`a handler that ${name} before responding gets a generic 500 and a STDERR record`, async () => {
      await using s = await start(handler);
      const r = await fetchRaw(s.target, { params: GET("/boom") });
      assert.equal(r.protocolStatus, 0);
      assertGeneric500(r.stdout);
      const stderr = dec.decode(r.stderr);
      assert.ok(stderr.length > 0, "a STDERR record");
      assert.match(stderr, /fail/i, `STDERR mentions the failure: ${JSON.stringify(stderr)}`);
      // The STDERR stream is closed by an empty record, before END_REQUEST.
      const types = r.records.map((rec) => [rec.type, rec.content.length]);
      const lastStderr = types.map(([t]) => t).lastIndexOf(T.STDERR);
      assert.deepEqual(types[lastStderr], [T.STDERR, 0]);
      assert.deepEqual(types.at(-1), [T.END, 8]);
      r.conn.close();
    });
  }

  it("onError's Response is used; it gets the thrown error", async () => {
    const errors: unknown[] = [];
    await using s = await start(() => {
      throw new RangeError(SECRET);
    }, {
      onError(error) {
        errors.push(error);
        return new Response("custom failure page", {
          status: 503,
          headers: { "retry-after": "5" },
        });
      },
    });
    const r = await fetchRaw(s.target, { params: GET("/") });
    assert.equal(r.cgi.status, 503);
    assert.equal(r.cgi.text, "custom failure page");
    assert.ok(r.cgi.headers.some(([n, v]) => n === "retry-after" && v === "5"));
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof RangeError);
    r.conn.close();
  });

  it("an async onError is awaited; an onError that throws falls back to the generic 500", async () => {
    await using a = await start(async () => {
      await sleep(1);
      throw new Error(SECRET);
    }, {
      async onError() {
        await sleep(5);
        return new Response("later", { status: 502 });
      },
    });
    const ra = await fetchRaw(a.target, { params: GET("/") });
    assert.equal(ra.cgi.status, 502);
    assert.equal(ra.cgi.text, "later");
    ra.conn.close();
    await using b = await start(() => {
      throw new Error(SECRET);
    }, {
      onError() {
        throw new Error(`${SECRET} again`);
      },
    });
    const rb = await fetchRaw(b.target, { params: GET("/") });
    assertGeneric500(rb.stdout);
    rb.conn.close();
  });

  const nonResponses: Array<[string, FastCGIHandler]> = [
    ["a string", () => "hello" as unknown as Response],
    ["undefined", () => undefined as unknown as Response],
    ["a promise of a plain object", () => Promise.resolve({ status: 200 }) as unknown as Response],
    ["Response.error()", () => Response.error()],
  ];
  for (const [name, handler] of nonResponses) {
    it(`a handler returning ${name} gets a 500`, async () => {
      await using s = await start(handler);
      const r = await fetchRaw(s.target, { params: GET("/") });
      assert.equal(r.protocolStatus, 0);
      assertGeneric500(r.stdout);
      r.conn.close();
    });
  }

  it("a body stream that errors mid-response: STDOUT keeps what was sent, appStatus is non-zero, the kept connection works", async () => {
    await using s = await start((req) => {
      if (new URL(req.url).pathname === "/next") return new Response("next ok");
      let step = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            step++;
            if (step === 1) controller.enqueue(enc.encode("partial-1;"));
            else if (step === 2) {
              await sleep(10);
              controller.enqueue(enc.encode("partial-2;"));
            } else {
              await sleep(10);
              controller.error(new Error(SECRET));
            }
          },
        }),
        { headers: { "content-type": "text/plain" } },
      );
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/broken") }));
    const reply = await conn.reply(1, 3000);
    assert.notEqual(reply.appStatus, 0, "appStatus reports the failure");
    assert.equal(reply.protocolStatus, 0);
    const cgi = parseCgi(reply.stdout);
    assert.equal(cgi.status, 200);
    assert.equal(cgi.text, "partial-1;partial-2;", "what was sent, nothing appended");
    const mine = reply.records;
    assert.deepEqual(
      [mine.at(-2)!.type, mine.at(-2)!.content.length],
      [T.STDOUT, 0],
      "STDOUT is closed",
    );
    assert.equal(mine.at(-1)!.type, T.END);
    assert.equal(mine.filter((r) => r.type === T.END).length, 1);
    assert.equal(conn.isClosed, false);
    conn.clear();
    await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/next") }));
    const next = await conn.reply(1, 3000);
    assert.equal(next.appStatus, 0);
    assert.equal(parseCgi(next.stdout).text, "next ok");
    conn.close();
  });

  it("a body stream that errors before its first chunk still gets a complete reply", async () => {
    await using s = await start(() =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.error(new Error(SECRET));
          },
        }),
      )
    );
    const r = await fetchRaw(s.target, { params: GET("/") });
    assert.equal(r.protocolStatus, 0);
    assert.notEqual(r.appStatus, 0);
    assert.ok(!dec.decode(r.stdout).includes(SECRET));
    r.conn.close();
  });
});

describe("malformed input closes that connection only", () => {
  const good = pairs(GET("/bad"));
  const cases: Array<[string, Uint8Array]> = [
    [
      "a bad version byte",
      (() => {
        const bytes = requestBytes({ id: 1, keepConn: true, params: GET("/") });
        bytes[0] = 2;
        return bytes;
      })(),
    ],
    [
      "a bad version byte in a later record",
      (() => {
        const bytes = requestBytes({ id: 1, keepConn: true, params: GET("/") });
        bytes[16] = 0;
        return bytes;
      })(),
    ],
    [
      "BEGIN_REQUEST with a 5-byte body",
      concat([
        rec(T.BEGIN, 1, new Uint8Array([0, 1, 1, 0, 0])),
        stream(T.PARAMS, 1, good),
        rec(T.STDIN, 1),
      ]),
    ],
    [
      "BEGIN_REQUEST with a 16-byte body",
      concat([rec(T.BEGIN, 1, new Uint8Array([0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))]),
    ],
    [
      "PARAMS with a truncated name-value pair",
      concat([
        begin(1, 1, true),
        rec(T.PARAMS, 1, concat([good, new Uint8Array([10, 10]), enc.encode("SHORT")])),
        rec(T.PARAMS, 1),
        rec(T.STDIN, 1),
      ]),
    ],
    [
      "PARAMS whose 4-byte length is cut off",
      concat([begin(1, 1, true), rec(T.PARAMS, 1, new Uint8Array([0x80, 0])), rec(T.PARAMS, 1)]),
    ],
    [
      "STDIN before PARAMS ended",
      concat([begin(1, 1, true), rec(T.PARAMS, 1, good), rec(T.STDIN, 1, enc.encode("x"))]),
    ],
    [
      "a second BEGIN_REQUEST for an active id",
      concat([begin(1, 1, true), stream(T.PARAMS, 1, good), begin(1, 1, true)]),
    ],
    [
      "PARAMS after the params stream ended",
      concat([begin(1, 1, true), stream(T.PARAMS, 1, good), rec(T.PARAMS, 1, good)]),
    ],
  ];
  for (const [name, bytes] of cases) {
    it(`${name}: the connection closes, a request on another connection completes, a fresh one works`, async () => {
      const gate = deferred();
      const inFlight = deferred();
      await using s = await start(async (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/slow") {
          inFlight.resolve();
          await gate.promise;
          return new Response("slow ok");
        }
        return new Response(`ok ${path}`);
      });
      const other = await RawConn.connect(s.target);
      await other.write(requestBytes({ id: 1, keepConn: true, params: GET("/slow") }));
      await within(inFlight.promise, 3000, "request in flight on the other connection");

      const bad = await RawConn.connect(s.target);
      await bad.write(bytes).catch(() => {});
      await within(bad.closed, 3000, "the bad connection was closed");
      assert.ok(
        !bad.records.some((r) => r.type === T.STDOUT && r.content.length > 0),
        "no response on it",
      );

      gate.resolve();
      const reply = await other.reply(1, 3000);
      assert.equal(reply.protocolStatus, 0);
      assert.equal(parseCgi(reply.stdout).text, "slow ok");
      assert.equal(other.isClosed, false);

      const fresh = await RawConn.connect(s.target);
      await fresh.write(requestBytes({ id: 1, keepConn: true, params: GET("/fresh") }));
      assert.equal(parseCgi((await fresh.reply(1, 3000)).stdout).text, "ok /fresh");
      other.close();
      fresh.close();
    });
  }

  it("a malformed record on a multiplexed connection aborts the requests in flight on it", async () => {
    const aborted = deferred<unknown>();
    const started = deferred();
    await using s = await start(async (req) => {
      started.resolve();
      await new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve()));
      aborted.resolve(req.signal.reason);
      return new Response("LEAKED");
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/") }));
    await within(started.promise, 3000, "handler running");
    const broken = rec(T.STDIN, 3);
    broken[0] = 9;
    await conn.write(broken).catch(() => {});
    await within(conn.closed, 3000, "connection closed");
    const reason = await within(aborted.promise, 3000, "request.signal fired");
    assert.ok(reason instanceof Error);
    assert.ok(!conn.records.some((r) => r.type === T.STDOUT && r.content.length > 0));
  });

  it("no unhandled rejection happened", async () => {
    await sleep(20);
    assert.deepEqual(unhandled, []);
  });
});
