// Wire-level regressions for library bugs the interop matrix found, so they
// stay fixed without a web server at hand.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { begin, concat, GET, pairs, RawConn, rec, stream, T } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

/** A PARAMS body with one raw-bytes value (pairs() only takes strings). */
function rawPair(name: string, value: Uint8Array): Uint8Array {
  const n = new TextEncoder().encode(name);
  const len = (x: number) =>
    x < 128 ? [x] : [((x >>> 24) & 0x7f) | 0x80, (x >>> 16) & 255, (x >>> 8) & 255, x & 255];
  return new Uint8Array([...len(n.length), ...len(value.length), ...n, ...value]);
}

describe("interop regressions", () => {
  it("REQUEST_URI bytes that are not UTF-8 reach request.url percent-encoded (nginx passes them raw)", async () => {
    await using s = await start((request) => new Response(request.url));
    const conn = await RawConn.connect(s.target);
    try {
      const uri = new Uint8Array([
        ...new TextEncoder().encode("/x"),
        0xff,
        0xe9,
        0x3f,
        0x71,
        0x3d,
        0xe9,
      ]); // /x\xFF\xE9?q=\xE9
      const params = concat([
        pairs({ REQUEST_METHOD: "GET", HTTP_HOST: "h.test" }),
        rawPair("REQUEST_URI", uri),
      ]);
      await conn.write(concat([begin(1), stream(T.PARAMS, 1, params), rec(T.STDIN, 1)]));
      const reply = await conn.reply(1);
      const text = new TextDecoder().decode(reply.stdout);
      assert.match(text, /\r\n\r\nhttp:\/\/h\.test\/x%FF%E9\?q=%E9$/);
    } finally {
      conn.close();
    }
  });

  it("an early answer waits with END_REQUEST until STDIN ends (h2o 2.2 dies on END while it writes STDIN)", async () => {
    await using s = await start(() => new Response("early\n"));
    const conn = await RawConn.connect(s.target);
    try {
      const body = new Uint8Array(200_000);
      const head = GET("/", { REQUEST_METHOD: "POST", CONTENT_LENGTH: String(body.length) });
      await conn.write(
        concat([
          begin(1, 1, true),
          stream(T.PARAMS, 1, pairs(head)),
          rec(T.STDIN, 1, body.subarray(0, 60000)),
        ]),
      );
      // The whole response comes, END_REQUEST does not while STDIN keeps flowing.
      assert.ok(
        await conn.until(
          () => conn.records.some((r) => r.type === T.STDOUT && r.content.length === 0),
          3000,
        ),
      );
      for (let at = 60000; at < body.length; at += 20000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(
          conn.records.some((r) => r.type === T.END),
          false,
          "END_REQUEST while STDIN was still coming",
        );
        await conn.write(rec(T.STDIN, 1, body.subarray(at, Math.min(at + 20000, body.length))));
      }
      await conn.write(rec(T.STDIN, 1));
      const reply = await conn.reply(1, 2000);
      assert.equal(reply.protocolStatus, 0);
      assert.match(new TextDecoder().decode(reply.stdout), /early\n$/);
      // The kept connection serves the next request.
      conn.clear();
      await conn.write(
        concat([begin(1, 1, true), stream(T.PARAMS, 1, pairs(GET("/next"))), rec(T.STDIN, 1)]),
      );
      assert.match(new TextDecoder().decode((await conn.reply(1)).stdout), /early\n$/);
    } finally {
      conn.close();
    }
  });

  it("an early answer still ends when the server stops sending STDIN (nginx does, once it has the response)", async () => {
    await using s = await start(() => new Response("early\n"));
    const conn = await RawConn.connect(s.target);
    try {
      const head = GET("/", { REQUEST_METHOD: "POST", CONTENT_LENGTH: "1000000" });
      await conn.write(
        concat([
          begin(1),
          stream(T.PARAMS, 1, pairs(head)),
          rec(T.STDIN, 1, new Uint8Array(30000)),
        ]),
      );
      const started = Date.now();
      const reply = await conn.reply(1, 3000);
      assert.equal(reply.protocolStatus, 0);
      assert.ok(Date.now() - started < 2000);
    } finally {
      conn.close();
    }
  });
});
