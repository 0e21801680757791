// Multiplexed requests on one connection (HAProxy style), FCGI_CANT_MPX_CONN,
// and connection reuse with and without FCGI_KEEP_CONN.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
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
import { deferred, trackUnhandledRejections, waitFor, within } from "../support/wait.ts";

const unhandled = trackUnhandledRejections();

const enc = new TextEncoder();
const dec = new TextDecoder();

const post = (uri: string, body: string) =>
  GET(uri, { REQUEST_METHOD: "POST", CONTENT_LENGTH: String(enc.encode(body).length) });

describe("multiplexing", () => {
  it("two interleaved requests (ids 1 and 3) run concurrently; the fast one ends first", async () => {
    const gate = deferred();
    const slowStarted = deferred();
    let fastDoneWhileSlowWaiting = false;
    let slowWaiting = false;
    await using s = await start(async (req, info) => {
      const body = await req.text();
      if (new URL(req.url).pathname === "/slow") {
        slowWaiting = true;
        slowStarted.resolve();
        await gate.promise;
        slowWaiting = false;
      } else {
        fastDoneWhileSlowWaiting = slowWaiting;
      }
      return new Response(`id=${info.requestId} body=${body}`);
    });
    const conn = await RawConn.connect(s.target);
    const p1 = pairs(post("/slow", "one-body"));
    const p3 = pairs(post("/fast", "three-body"));
    // Interleaved record by record, params split across records.
    await conn.write(concat([
      begin(1, 1, true),
      begin(3, 1, true),
      rec(T.PARAMS, 1, p1.subarray(0, 10)),
      rec(T.PARAMS, 3, p3.subarray(0, 7)),
      rec(T.PARAMS, 1, p1.subarray(10)),
      rec(T.PARAMS, 3, p3.subarray(7)),
      rec(T.PARAMS, 1),
      rec(T.STDIN, 1, enc.encode("one-")),
      rec(T.PARAMS, 3),
      rec(T.STDIN, 3, enc.encode("three-")),
      rec(T.STDIN, 1, enc.encode("body")),
      rec(T.STDIN, 3, enc.encode("body")),
      rec(T.STDIN, 1),
    ]));
    await within(slowStarted.promise, 3000, "slow handler started");
    await conn.write(rec(T.STDIN, 3));
    const fast = await conn.reply(3, 3000);
    assert.equal(fast.protocolStatus, 0);
    assert.equal(parseCgi(fast.stdout).text, "id=3 body=three-body");
    assert.ok(fastDoneWhileSlowWaiting, "the fast handler ran while the slow one was waiting");
    assert.ok(
      !conn.records.some((r) => r.type === T.END && r.id === 1),
      "no END_REQUEST for id 1 yet",
    );

    gate.resolve();
    const slow = await conn.reply(1, 3000);
    assert.equal(slow.protocolStatus, 0);
    assert.equal(parseCgi(slow.stdout).text, "id=1 body=one-body");
    const endAt = (id: number) => conn.records.findIndex((r) => r.type === T.END && r.id === id);
    assert.ok(endAt(3) < endAt(1), "id 3 ended before id 1");
    assert.deepEqual([...new Set(conn.records.map((r) => r.id))].sort(), [1, 3]);
    // Each stream is closed once, before its END_REQUEST.
    for (const id of [1, 3]) {
      const mine = conn.records.filter((r) => r.id === id);
      assert.equal(mine.filter((r) => r.type === T.END).length, 1);
      assert.equal(mine.at(-1)!.type, T.END);
      assert.equal(mine.at(-2)!.type, T.STDOUT);
      assert.equal(mine.at(-2)!.content.length, 0);
    }
    conn.close();
  });

  it("STDOUT of two concurrently streaming responses interleave", async () => {
    await using s = await start((_req, info) => {
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 15));
          if (i === 6) return controller.close();
          controller.enqueue(enc.encode(`${info.requestId}:${i++};`));
        },
      });
      return new Response(body);
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(concat([
      requestBytes({ id: 1, keepConn: true, params: GET("/a") }),
      requestBytes({ id: 3, keepConn: true, params: GET("/b") }),
    ]));
    const one = await conn.reply(1, 5000);
    const three = await conn.reply(3, 5000);
    assert.equal(parseCgi(one.stdout).text, "1:0;1:1;1:2;1:3;1:4;1:5;");
    assert.equal(parseCgi(three.stdout).text, "3:0;3:1;3:2;3:3;3:4;3:5;");
    const bodyRecords = conn.records
      .map((r, at) => ({ ...r, at, text: dec.decode(r.content) }))
      .filter((r) => r.type === T.STDOUT && /^\d:\d;$/.test(r.text));
    const ones = bodyRecords.filter((r) => r.id === 1).map((r) => r.at);
    const threes = bodyRecords.filter((r) => r.id === 3).map((r) => r.at);
    const first1 = Math.min(...ones), last1 = Math.max(...ones);
    assert.ok(
      threes.some((at) => at > first1 && at < last1),
      `records of id 3 appear between records of id 1 (1: ${ones}, 3: ${threes})`,
    );
    const first3 = Math.min(...threes), last3 = Math.max(...threes);
    assert.ok(ones.some((at) => at > first3 && at < last3), "and the other way round");
    conn.close();
  });

  it("multiplex: false answers a second concurrent BEGIN with FCGI_CANT_MPX_CONN", async () => {
    const gate = deferred();
    const calls: number[] = [];
    await using s = await start(async (_req, info) => {
      calls.push(info.requestId);
      await gate.promise;
      return new Response("first");
    }, { multiplex: false });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/1") }));
    await waitFor(() => calls.length === 1, 3000, "first handler called");
    await conn.write(requestBytes({ id: 3, keepConn: true, params: GET("/3") }));
    const refused = await conn.reply(3, 3000);
    assert.equal(refused.protocolStatus, 1, "FCGI_CANT_MPX_CONN");
    assert.equal(refused.stdout.length, 0);
    assert.deepEqual(refused.records.map((r) => r.type), [T.END]);
    assert.deepEqual(calls, [1], "the refused request never reached the handler");
    assert.ok(!conn.records.some((r) => r.id === 1), "the first request is still running");

    gate.resolve();
    const first = await conn.reply(1, 3000);
    assert.equal(first.protocolStatus, 0);
    const cgi = parseCgi(first.stdout);
    assert.equal(cgi.status, 200);
    assert.equal(cgi.text, "first");
    // The connection is still usable for the next request (one at a time).
    conn.clear();
    await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/again") }));
    const again = await conn.reply(1, 3000);
    assert.equal(parseCgi(again.stdout).text, "first");
    assert.deepEqual(calls, [1, 1]);
    conn.close();
  });

  it("multiplex: false with FCGI_KEEP_CONN clear: the refusal does not cut the running request", async () => {
    const gate = deferred();
    let calls = 0;
    await using s = await start(async () => {
      calls++;
      await gate.promise;
      return new Response("done");
    }, { multiplex: false });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ id: 1, params: GET("/1") }));
    await waitFor(() => calls === 1, 3000, "first handler called");
    await conn.write(requestBytes({ id: 2, params: GET("/2") }));
    const refused = await conn.reply(2, 3000);
    assert.equal(refused.protocolStatus, 1);
    assert.equal(conn.isClosed, false);
    gate.resolve();
    const first = await conn.reply(1, 3000);
    assert.equal(parseCgi(first.stdout).text, "done");
    await within(conn.closed, 3000, "connection closed after the request without KEEP_CONN");
  });
});

describe("FCGI_KEEP_CONN", () => {
  for (const unix of [false, true]) {
    it(`without FCGI_KEEP_CONN the app closes the connection after END_REQUEST (${unix ? "unix" : "tcp"})`, async () => {
      const big = "x".repeat(200000);
      await using s = await start(() => new Response(big), { unix });
      const conn = await RawConn.connect(s.target);
      await conn.write(requestBytes({ id: 1, keepConn: false, params: GET("/") }));
      await within(conn.closed, 3000, "server closed the connection");
      const reply = await conn.reply(1, 100);
      assert.equal(reply.protocolStatus, 0);
      assert.equal(parseCgi(reply.stdout).text, big, "the whole response arrived before the close");
      const last = conn.records.at(-1)!;
      assert.equal(last.type, T.END, "END_REQUEST is the last record");
    });
  }

  it("with FCGI_KEEP_CONN the connection stays open for three sequential requests with id 1", async () => {
    let n = 0;
    await using s = await start(async (req) =>
      new Response(`#${++n} ${req.method} ${await req.text()}`)
    );
    const conn = await RawConn.connect(s.target);
    for (let i = 1; i <= 3; i++) {
      conn.clear();
      const body = `body-${i}`;
      await conn.write(
        requestBytes({
          id: 1,
          keepConn: true,
          params: post(`/${i}`, body),
          stdin: enc.encode(body),
        }),
      );
      const reply = await conn.reply(1, 3000);
      assert.equal(reply.protocolStatus, 0);
      assert.equal(parseCgi(reply.stdout).text, `#${i} POST ${body}`);
      // Still open a moment later.
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(conn.isClosed, false, `connection open after request ${i}`);
    }
    conn.close();
  });

  it("a request split over PARAMS and STDIN records of many sizes still works when kept", async () => {
    await using s = await start(async (req) => new Response(await req.text()));
    const conn = await RawConn.connect(s.target);
    const body = enc.encode("a".repeat(1000));
    await conn.write(concat([
      begin(1, 1, true),
      stream(T.PARAMS, 1, pairs(post("/", "a".repeat(1000))), 3),
      stream(T.STDIN, 1, body, 7),
    ]));
    const reply = await conn.reply(1, 3000);
    assert.equal(parseCgi(reply.stdout).text, "a".repeat(1000));
    conn.close();
  });

  it("no unhandled rejection happened", async () => {
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, []);
  });
});
