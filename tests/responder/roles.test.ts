// FastCGI roles: unknown roles, the Authorizer and the Filter.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { FastCGIInfo } from "../../mod.ts";
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
import { trackUnhandledRejections, within } from "../support/wait.ts";

const unhandled = trackUnhandledRejections();

const enc = new TextEncoder();
const dec = new TextDecoder();

const RESPONDER = 1, AUTHORIZER = 2, FILTER = 3;

/** Authorizer params: no CONTENT_LENGTH, PATH_INFO, PATH_TRANSLATED or SCRIPT_NAME (spec 6.3). */
function authParams(uri: string): Record<string, string> {
  const { SCRIPT_NAME: _s, ...rest } = GET(uri, { HTTP_AUTHORIZATION: "Basic YWxpY2U6c2VjcmV0" });
  return rest;
}

describe("roles", () => {
  it("an unknown role gets FCGI_UNKNOWN_ROLE; a kept connection stays usable", async () => {
    let calls = 0;
    await using s = await start(() => {
      calls++;
      return new Response("hello");
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ id: 1, role: 7, keepConn: true, params: GET("/") }));
    const refused = await conn.reply(1, 3000);
    assert.equal(refused.protocolStatus, 3, "FCGI_UNKNOWN_ROLE");
    assert.deepEqual(refused.records.map((r) => r.type), [T.END]);
    assert.equal(calls, 0);
    // Role 0 and role 256 (high byte) are unknown too.
    for (const role of [0, 256 + RESPONDER]) {
      conn.clear();
      const body = new Uint8Array([role >> 8, role & 255, 1, 0, 0, 0, 0, 0]);
      await conn.write(
        concat([rec(T.BEGIN, 1, body), stream(T.PARAMS, 1, pairs(GET("/"))), rec(T.STDIN, 1)]),
      );
      assert.equal((await conn.reply(1, 3000)).protocolStatus, 3, `role ${role}`);
    }
    conn.clear();
    await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/") }));
    const reply = await conn.reply(1, 3000);
    assert.equal(reply.protocolStatus, 0);
    assert.equal(parseCgi(reply.stdout).text, "hello");
    assert.equal(calls, 1);
    assert.equal(conn.isClosed, false);
    conn.close();
  });

  it("an unknown role without FCGI_KEEP_CONN: END_REQUEST, then the app closes the connection", async () => {
    await using s = await start(() => new Response("hello"));
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ id: 1, role: 7, params: GET("/") }));
    assert.equal((await conn.reply(1, 3000)).protocolStatus, 3);
    await within(conn.closed, 3000, "connection closed");
  });

  it("Authorizer: role 'authorizer', null body, 200 with Variable-NAME headers written as Variable-NAME", async () => {
    const seen: Array<{ role: string; bodyNull: boolean; auth: string | null; data: unknown }> = [];
    await using s = await start((req, info) => {
      seen.push({
        role: info.role,
        bodyNull: req.body === null,
        auth: req.headers.get("authorization"),
        data: info.data,
      });
      return new Response("ignored by the server", {
        status: 200,
        headers: { "Variable-User": "alice", "Variable-Auth_Level": "admin", "X-Other": "1" },
      });
    });
    const conn = await RawConn.connect(s.target);
    // A body sent to an authorizer must not reach it (and must not hang the request).
    await conn.write(
      requestBytes({
        id: 1,
        role: AUTHORIZER,
        keepConn: true,
        params: authParams("/private"),
        stdin: enc.encode("xyz"),
      }),
    );
    const reply = await conn.reply(1, 3000);
    assert.equal(reply.protocolStatus, 0);
    assert.deepEqual(seen, [{
      role: "authorizer",
      bodyNull: true,
      auth: "Basic YWxpY2U6c2VjcmV0",
      data: null,
    }]);
    const raw = dec.decode(reply.stdout);
    const head = raw.slice(0, raw.indexOf("\r\n\r\n") + 2);
    assert.match(head, /^Status: 200 OK\r\n/);
    assert.ok(
      head.includes("\r\nVariable-USER: alice\r\n"),
      `raw head has Variable-USER: ${JSON.stringify(head)}`,
    );
    assert.ok(
      head.includes("\r\nVariable-AUTH_LEVEL: admin\r\n"),
      `raw head has Variable-AUTH_LEVEL: ${JSON.stringify(head)}`,
    );
    assert.ok(!/variable-user/.test(head), "no lower-cased variable name");
    conn.close();
  });

  it("Authorizer: a 403 with a body goes back as is", async () => {
    await using s = await start((_req, info) => {
      assert.equal(info.role, "authorizer");
      return new Response("go away\n", {
        status: 403,
        headers: { "content-type": "text/plain", "www-authenticate": 'Basic realm="x"' },
      });
    });
    const r = await fetchRaw(s.target, { role: AUTHORIZER, params: authParams("/private") });
    assert.equal(r.protocolStatus, 0);
    assert.equal(r.cgi.status, 403);
    assert.equal(r.cgi.text, "go away\n");
    assert.deepEqual(
      r.cgi.headers.filter(([n]) => n !== "content-length"),
      [["content-type", "text/plain"], ["www-authenticate", 'Basic realm="x"']],
    );
    r.conn.close();
  });

  it("Authorizer: the deny body comes in the STDOUT record that ends the header block", async () => {
    // mod_authnz_fcgi keeps only the body bytes of that record; a body in a
    // later record is dropped for Apache's own error page.
    await using s = await start((req) => {
      const n = Number(new URL(req.url).searchParams.get("n"));
      if (n < 0) {
        const failing = new ReadableStream({
          pull: () => Promise.reject(new Error("deny page failed")),
        });
        return new Response(failing, { status: 401 });
      }
      const body = n > 0 ? "x".repeat(n) : "please log in\n";
      return new Response(body, {
        status: 401,
        headers: { "www-authenticate": 'Bearer realm="webfcgi"' },
      });
    });
    const stdoutRecords = (r: { records: Array<{ type: number; content: Uint8Array }> }) =>
      r.records.filter((x) => x.type === T.STDOUT && x.content.length > 0);
    const small = await fetchRaw(s.target, { role: AUTHORIZER, params: authParams("/p?n=0") });
    const first = new TextDecoder("latin1").decode(stdoutRecords(small)[0].content);
    assert.match(first, /^Status: 401 Unauthorized\r\n/);
    assert.ok(first.endsWith("\r\n\r\nplease log in\n"), `one record: ${JSON.stringify(first)}`);
    assert.equal(stdoutRecords(small).length, 1);
    assert.equal(small.cgi.text, "please log in\n");
    small.conn.close();
    // A body larger than what fits beside the head: the record is full, the rest follows whole.
    const big = await fetchRaw(s.target, { role: AUTHORIZER, params: authParams("/p?n=70000") });
    const records = stdoutRecords(big);
    assert.equal(records[0].content.length, 65528);
    assert.ok(new TextDecoder("latin1").decode(records[0].content).includes("\r\n\r\nxxx"));
    assert.equal(big.cgi.status, 401);
    assert.equal(big.cgi.text, "x".repeat(70000));
    big.conn.close();
    // Nothing goes out before the body is read: a body that fails becomes a 500 (fail closed).
    const failed = await fetchRaw(s.target, { role: AUTHORIZER, params: authParams("/p?n=-1") });
    assert.equal(failed.cgi.status, 500);
    assert.equal(failed.protocolStatus, 0);
    failed.conn.close();
  });

  it("Filter: role 'filter', info.data streams FCGI_DATA, FCGI_DATA_* in params; no STDOUT before STDIN ends", async () => {
    const file = enc.encode("The quick brown fox jumps over the lazy dog.\n".repeat(400));
    let info: FastCGIInfo | undefined;
    let dataText = "";
    let handlerDone = false;
    await using s = await start(async (_req, i) => {
      if (i.role !== "filter") return new Response("not a filter");
      info = i;
      assert.ok(i.data instanceof ReadableStream, "info.data is a ReadableStream");
      // Reads DATA only: the answer is ready before STDIN has ended.
      dataText = dec.decode(new Uint8Array(await new Response(i.data).arrayBuffer()));
      handlerDone = true;
      return new Response(dataText.toUpperCase(), { headers: { "content-type": "text/plain" } });
    });
    const params = GET("/doc.txt", {
      REQUEST_METHOD: "GET",
      FCGI_DATA_LENGTH: String(file.length),
      FCGI_DATA_LAST_MOD: "1700000000",
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(concat([
      begin(1, FILTER, true),
      stream(T.PARAMS, 1, pairs(params)),
      stream(T.DATA, 1, file, 4000),
    ]));
    const t0 = Date.now();
    while (!handlerDone && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 5));
    assert.ok(handlerDone, "the filter handler returned its response");
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(
      conn.records.filter((r) => r.id === 1).length,
      0,
      "no output before the empty STDIN record",
    );
    await conn.write(rec(T.STDIN, 1));
    const reply = await conn.reply(1, 3000);
    assert.equal(reply.protocolStatus, 0);
    const cgi = parseCgi(reply.stdout);
    assert.equal(cgi.status, 200);
    assert.equal(cgi.text, dec.decode(file).toUpperCase());
    assert.equal(dataText, dec.decode(file));
    assert.equal(info!.role, "filter");
    assert.equal(info!.params.FCGI_DATA_LENGTH, String(file.length));
    assert.equal(info!.params.FCGI_DATA_LAST_MOD, "1700000000");
    // The connection is kept: a responder request works after it.
    conn.clear();
    await conn.write(requestBytes({ id: 1, role: RESPONDER, keepConn: true, params: GET("/") }));
    const next = await conn.reply(1, 3000);
    assert.equal(next.protocolStatus, 0);
    assert.equal(parseCgi(next.stdout).text, "not a filter");
    conn.close();
  });

  it("Filter: STDIN then DATA in spec order, both readable by the handler", async () => {
    const file = enc.encode("line one\nline two\n");
    await using s = await start(async (req, info) => {
      const stdin = await req.text();
      const data = await new Response(info.data).text();
      return new Response(`${info.role}|${stdin}|${data}|${info.params.FCGI_DATA_LENGTH}`);
    });
    const r = await fetchRaw(s.target, {
      role: FILTER,
      params: GET("/f", {
        REQUEST_METHOD: "POST",
        CONTENT_LENGTH: "5",
        FCGI_DATA_LENGTH: String(file.length),
        FCGI_DATA_LAST_MOD: "0",
      }),
      stdin: enc.encode("input"),
      data: file,
    });
    assert.equal(r.protocolStatus, 0);
    assert.equal(r.cgi.text, `filter|input|line one\nline two\n|${file.length}`);
    r.conn.close();
  });

  it("Filter: a large STDIN the handler never reads does not hang the request", async () => {
    const big = new Uint8Array(1 << 20).fill(65);
    const file = enc.encode("the data");
    for (const readData of [true, false]) {
      await using s = await start(async (_req, info) => {
        // Neither handler touches STDIN; one reads DATA (which comes after STDIN).
        return new Response(readData ? await new Response(info.data).text() : "at once");
      });
      const conn = await RawConn.connect(s.target);
      const params = GET("/f", {
        REQUEST_METHOD: "POST",
        CONTENT_LENGTH: String(big.length),
        FCGI_DATA_LENGTH: String(file.length),
        FCGI_DATA_LAST_MOD: "0",
      });
      await conn.write(concat([
        begin(1, FILTER, true),
        stream(T.PARAMS, 1, pairs(params)),
        stream(T.STDIN, 1, big),
        stream(T.DATA, 1, file),
      ]));
      const reply = await conn.reply(1, 3000);
      assert.equal(reply.protocolStatus, 0);
      assert.equal(parseCgi(reply.stdout).text, readData ? "the data" : "at once");
      // And the kept connection still works.
      conn.clear();
      await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/") }));
      assert.equal((await conn.reply(1, 3000)).protocolStatus, 0);
      conn.close();
    }
  });

  it("a Responder request has info.data null; DATA for a responder closes the connection", async () => {
    const roles: Array<[string, unknown]> = [];
    await using s = await start((_req, info) => {
      roles.push([info.role, info.data]);
      return new Response("ok");
    });
    const r = await fetchRaw(s.target, { params: GET("/") });
    assert.equal(r.cgi.text, "ok");
    r.conn.close();
    assert.deepEqual(roles, [["responder", null]]);
    const conn = await RawConn.connect(s.target);
    await conn.write(
      concat([
        begin(1, RESPONDER, true),
        stream(T.PARAMS, 1, pairs(GET("/"))),
        rec(T.DATA, 1, enc.encode("x")),
      ]),
    );
    await within(conn.closed, 3000, "connection closed after DATA for a responder");
  });

  it("no unhandled rejection happened", async () => {
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, []);
  });
});
