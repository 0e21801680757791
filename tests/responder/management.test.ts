// Management records (requestId 0), records for inactive ids, and the
// maxRequests / maxConnections limits.
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
  T,
} from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";
import { deferred, trackUnhandledRejections, waitFor, within } from "../support/wait.ts";

const unhandled = trackUnhandledRejections();

const enc = new TextEncoder();

/** Name-value pairs, decoded apart from src/protocol. */
function readPairs(bytes: Uint8Array): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const dec = new TextDecoder();
  let at = 0;
  const len = () => {
    const b = bytes[at];
    if (b < 128) {
      at += 1;
      return b;
    }
    const n = ((b & 0x7f) << 24) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
    at += 4;
    return n;
  };
  while (at < bytes.length) {
    const n = len();
    const v = len();
    const name = dec.decode(bytes.subarray(at, at + n));
    at += n;
    const value = dec.decode(bytes.subarray(at, at + v));
    at += v;
    assert.ok(at <= bytes.length, "pairs fit the record");
    out.push([name, value]);
  }
  return out;
}

const getValues = (...names: string[]) =>
  rec(T.GET_VALUES, 0, pairs(names.map((n) => [n, ""] as [string, string])));

const results = (conn: RawConn) => conn.records.filter((r) => r.type === T.GET_VALUES_RESULT);

async function nextResult(conn: RawConn, count: number): Promise<Array<[string, string]>> {
  const ok = await conn.until(() => results(conn).length >= count, 3000);
  assert.ok(ok, `GET_VALUES_RESULT #${count} arrived`);
  const r = results(conn)[count - 1];
  assert.equal(r.id, 0, "GET_VALUES_RESULT has request id 0");
  return readPairs(r.content).sort(([a], [b]) => a.localeCompare(b));
}

const hello = () => new Response("hello");

async function assertWorks(conn: RawConn, id = 1): Promise<void> {
  const before = conn.records.length;
  await conn.write(requestBytes({ id, keepConn: true, params: GET("/ok") }));
  const ok = await conn.until(
    () => conn.records.slice(before).some((r) => r.type === T.END && r.id === id),
    3000,
  );
  assert.ok(ok, `request ${id} completed on the connection (closed: ${conn.isClosed})`);
  const mine = conn.records.slice(before).filter((r) => r.id === id && r.type === T.STDOUT);
  const cgi = parseCgi(concat(mine.map((r) => r.content)));
  assert.equal(cgi.status, 200);
  assert.equal(cgi.text, "hello");
}

describe("FCGI_GET_VALUES", () => {
  it("answers before any request with exactly the names asked, from the configured limits", async () => {
    await using s = await start(hello, { maxConnections: 7, maxRequests: 5, multiplex: true });
    const conn = await RawConn.connect(s.target);
    await conn.write(getValues("FCGI_MAX_REQS", "FCGI_NOT_A_VARIABLE", "FCGI_MPXS_CONNS"));
    assert.deepEqual(await nextResult(conn, 1), [["FCGI_MAX_REQS", "5"], ["FCGI_MPXS_CONNS", "1"]]);
    await conn.write(getValues("FCGI_MAX_CONNS"));
    assert.deepEqual(await nextResult(conn, 2), [["FCGI_MAX_CONNS", "7"]]);
    await conn.write(getValues("FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"));
    assert.deepEqual(await nextResult(conn, 3), [
      ["FCGI_MAX_CONNS", "7"],
      ["FCGI_MAX_REQS", "5"],
      ["FCGI_MPXS_CONNS", "1"],
    ]);
    await conn.write(getValues("UNKNOWN_ONLY"));
    assert.deepEqual(await nextResult(conn, 4), []);
    assert.equal(conn.isClosed, false);
    await assertWorks(conn);
    conn.close();
  });

  it("FCGI_MPXS_CONNS is 0 with multiplex: false; other limits follow the options", async () => {
    await using s = await start(hello, { maxConnections: 3, maxRequests: 11, multiplex: false });
    const conn = await RawConn.connect(s.target);
    await conn.write(getValues("FCGI_MPXS_CONNS", "FCGI_MAX_CONNS", "FCGI_MAX_REQS"));
    assert.deepEqual(await nextResult(conn, 1), [
      ["FCGI_MAX_CONNS", "3"],
      ["FCGI_MAX_REQS", "11"],
      ["FCGI_MPXS_CONNS", "0"],
    ]);
    conn.close();
  });

  it("answers in the middle of a request on the same connection", async () => {
    const gate = deferred();
    let started = 0;
    await using s = await start(async (req) => {
      started++;
      const body = await req.text();
      await gate.promise;
      return new Response(`got ${body}`);
    }, { maxRequests: 9 });
    const conn = await RawConn.connect(s.target);
    const p = pairs(GET("/mid", { REQUEST_METHOD: "POST", CONTENT_LENGTH: "4" }));
    // Between two PARAMS records.
    await conn.write(concat([begin(1, 1, true), rec(T.PARAMS, 1, p.subarray(0, 9))]));
    await conn.write(getValues("FCGI_MAX_REQS"));
    assert.deepEqual(await nextResult(conn, 1), [["FCGI_MAX_REQS", "9"]]);
    // Between STDIN records, while the handler runs.
    await conn.write(
      concat([
        rec(T.PARAMS, 1, p.subarray(9)),
        rec(T.PARAMS, 1),
        rec(T.STDIN, 1, enc.encode("ab")),
      ]),
    );
    await waitFor(() => started === 1, 3000, "handler started");
    await conn.write(getValues("FCGI_MPXS_CONNS"));
    assert.deepEqual(await nextResult(conn, 2), [["FCGI_MPXS_CONNS", "1"]]);
    await conn.write(concat([rec(T.STDIN, 1, enc.encode("cd")), rec(T.STDIN, 1)]));
    // While the handler waits with the whole body read.
    await conn.write(getValues("FCGI_MAX_CONNS"));
    assert.deepEqual(await nextResult(conn, 3), [["FCGI_MAX_CONNS", "1000"]]);
    assert.ok(!conn.records.some((r) => r.id === 1), "no output for the request yet");
    gate.resolve();
    const reply = await conn.reply(1, 3000);
    assert.equal(reply.protocolStatus, 0);
    assert.equal(parseCgi(reply.stdout).text, "got abcd");
    conn.close();
  });
});

describe("unknown management types and inactive ids", () => {
  it("an unknown management type gets FCGI_UNKNOWN_TYPE naming it; the connection stays usable", async () => {
    await using s = await start(hello);
    const conn = await RawConn.connect(s.target);
    await conn.write(rec(42, 0, new Uint8Array(8)));
    const ok = await conn.until(() => conn.records.some((r) => r.type === T.UNKNOWN_TYPE), 3000);
    assert.ok(ok, "UNKNOWN_TYPE arrived");
    await conn.write(rec(12, 0, enc.encode("whatever")));
    await conn.until(
      () => conn.records.filter((r) => r.type === T.UNKNOWN_TYPE).length === 2,
      3000,
    );
    const unknown = conn.records.filter((r) => r.type === T.UNKNOWN_TYPE);
    assert.equal(unknown.length, 2);
    assert.deepEqual(unknown.map((r) => r.id), [0, 0]);
    assert.deepEqual(unknown.map((r) => r.content.length), [8, 8]);
    assert.deepEqual(unknown.map((r) => r.content[0]), [42, 12]);
    assert.deepEqual([...unknown[0].content.subarray(1)], [0, 0, 0, 0, 0, 0, 0]);
    await assertWorks(conn);
    // And in the middle of a request too.
    const gate = deferred();
    let calls = 0;
    await using s2 = await start(async () => {
      calls++;
      await gate.promise;
      return new Response("hello");
    });
    const conn2 = await RawConn.connect(s2.target);
    await conn2.write(requestBytes({ id: 1, keepConn: true, params: GET("/") }));
    await waitFor(() => calls === 1, 3000, "handler started");
    await conn2.write(rec(200, 0));
    assert.ok(await conn2.until(() => conn2.records.some((r) => r.type === T.UNKNOWN_TYPE), 3000));
    assert.equal(conn2.records.find((r) => r.type === T.UNKNOWN_TYPE)!.content[0], 200);
    gate.resolve();
    const reply = await conn2.reply(1, 3000);
    assert.equal(parseCgi(reply.stdout).text, "hello");
    conn.close();
    conn2.close();
  });

  it("records for inactive request ids are ignored and the connection stays usable", async () => {
    let calls = 0;
    await using s = await start(() => {
      calls++;
      return new Response("hello");
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(concat([
      rec(T.STDIN, 9, enc.encode("stray body")),
      rec(T.STDIN, 9),
      rec(T.ABORT, 5),
      rec(T.PARAMS, 7, pairs(GET("/stray"))),
      rec(T.PARAMS, 7),
      rec(T.DATA, 4, enc.encode("data")),
      rec(T.END, 6, new Uint8Array(8)),
    ]));
    await assertWorks(conn, 1);
    assert.equal(calls, 1);
    // id 1 is inactive again once its END_REQUEST went out.
    await conn.write(
      concat([rec(T.ABORT, 1), rec(T.STDIN, 1, enc.encode("late")), rec(T.STDIN, 1)]),
    );
    await assertWorks(conn, 1);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(
      [...new Set(conn.records.map((r) => r.id))],
      [1],
      "nothing answered for other ids",
    );
    const ends = conn.records.filter((r) => r.type === T.END);
    assert.equal(ends.length, 2, "one END_REQUEST per request, none for the stray ABORT");
    assert.equal(calls, 2);
    assert.equal(conn.isClosed, false);
    conn.close();
  });
});

describe("limits", () => {
  it("maxRequests: 2 answers a third concurrent BEGIN with FCGI_OVERLOADED, on another connection or multiplexed", async () => {
    const gate = deferred();
    let calls = 0;
    await using s = await start(async () => {
      calls++;
      await gate.promise;
      return new Response("hello");
    }, { maxRequests: 2 });
    const a = await RawConn.connect(s.target);
    const b = await RawConn.connect(s.target);
    await a.write(requestBytes({ id: 1, keepConn: true, params: GET("/a") }));
    await b.write(requestBytes({ id: 1, keepConn: true, params: GET("/b") }));
    await waitFor(() => calls === 2, 3000, "two handlers running");

    const c = await RawConn.connect(s.target);
    await c.write(requestBytes({ id: 1, keepConn: true, params: GET("/c") }));
    const third = await c.reply(1, 3000);
    assert.equal(third.protocolStatus, 2, "FCGI_OVERLOADED on a third connection");
    assert.equal(third.stdout.length, 0);
    // Multiplexed on a busy connection, too.
    await a.write(requestBytes({ id: 3, keepConn: true, params: GET("/a3") }));
    const mpx = await a.reply(3, 3000);
    assert.equal(mpx.protocolStatus, 2, "FCGI_OVERLOADED multiplexed");
    assert.equal(calls, 2, "refused requests never reached the handler");

    gate.resolve();
    for (const conn of [a, b]) {
      const reply = await conn.reply(1, 3000);
      assert.equal(reply.protocolStatus, 0);
      assert.equal(parseCgi(reply.stdout).text, "hello");
    }
    // Capacity is back: the refused connection (kept) can try again.
    c.clear();
    await assertWorks(c, 1);
    a.clear();
    await assertWorks(a, 3);
    for (const conn of [a, b, c]) conn.close();
  });

  it("an FCGI_OVERLOADED refusal without FCGI_KEEP_CONN closes the idle connection", async () => {
    const gate = deferred();
    let calls = 0;
    await using s = await start(async () => {
      calls++;
      await gate.promise;
      return new Response("hello");
    }, { maxRequests: 1 });
    const a = await RawConn.connect(s.target);
    await a.write(requestBytes({ id: 1, params: GET("/a") }));
    await waitFor(() => calls === 1, 3000, "handler running");
    const b = await RawConn.connect(s.target);
    await b.write(requestBytes({ id: 1, params: GET("/b") }));
    assert.equal((await b.reply(1, 3000)).protocolStatus, 2);
    await within(b.closed, 3000, "refused connection closed");
    gate.resolve();
    assert.equal(parseCgi((await a.reply(1, 3000)).stdout).text, "hello");
  });

  for (const unix of [false, true]) {
    it(`maxConnections: 2 closes a third connection at once (${unix ? "unix" : "tcp"})`, async () => {
      await using s = await start(hello, { maxConnections: 2, unix });
      const a = await RawConn.connect(s.target);
      const b = await RawConn.connect(s.target);
      await assertWorks(a);
      await assertWorks(b);
      const c = await RawConn.connect(s.target);
      // Send a request anyway: it must not be answered.
      c.write(requestBytes({ id: 1, keepConn: true, params: GET("/") })).catch(() => {});
      await within(c.closed, 3000, "third connection closed by the server");
      assert.equal(c.records.length, 0, "no record on the refused connection");
      assert.equal(c.chunks.length, 0, "no bytes at all");
      // a and b are unaffected.
      await assertWorks(a);
      a.close();
      await a.closed;
      // Once the server has noticed the close, a new connection is taken.
      let d: RawConn | undefined;
      for (let attempt = 0; attempt < 50 && d === undefined; attempt++) {
        const candidate = await RawConn.connect(s.target);
        await candidate.write(requestBytes({ id: 1, keepConn: true, params: GET("/") })).catch(
          () => {},
        );
        await candidate.until(() => candidate.records.some((r) => r.type === T.END), 1000);
        if (candidate.records.some((r) => r.type === T.END)) d = candidate;
        else {
          candidate.close();
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      assert.ok(d, "a new connection works after one closed");
      assert.equal(
        parseCgi(concat(d.records.filter((r) => r.type === T.STDOUT).map((r) => r.content))).text,
        "hello",
      );
      await assertWorks(b);
      b.close();
      d.close();
    });
  }

  it("no unhandled rejection happened", async () => {
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, []);
  });
});
