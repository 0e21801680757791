// More than MAX_HEADER_PARAMS (1,000) HTTP_* params: a 431 before any
// Headers are built (20,000 distinct ones cost 0.7-0.8 s of CPU in Headers
// on Deno and Bun), and the kept connection goes on.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_HEADER_PARAMS } from "../../src/responder/params.ts";
import { GET, parseCgi, RawConn, requestBytes } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

function withHeaders(count: number, distinct: boolean): Array<[string, string]> {
  const list: Array<[string, string]> = Object.entries(GET("/many"));
  // GET() has HTTP_HOST already.
  for (let i = 1; i < count; i++) list.push([distinct ? `HTTP_X_${i}` : "HTTP_X_SAME", "v"]);
  return list;
}

describe("the number of header params", () => {
  it("is capped at 1,000, counting repeats; 431 beyond, and the connection goes on", async () => {
    assert.equal(MAX_HEADER_PARAMS, 1000);
    const seen: number[] = [];
    await using app = await start((request) => {
      seen.push([...request.headers].length);
      return new Response("ok");
    }, { maxParamsBytes: 1 << 20 });
    const conn = await RawConn.connect(app.target);
    const cases: Array<[number, boolean, number]> = [
      [1000, true, 200],
      [1001, true, 431],
      [20000, true, 431],
      [20000, false, 431],
      [1000, false, 200],
    ];
    for (const [count, distinct, status] of cases) {
      conn.clear();
      await conn.write(requestBytes({ params: withHeaders(count, distinct), keepConn: true }));
      const reply = await conn.reply(1);
      assert.equal(
        parseCgi(reply.stdout).status,
        status,
        `${count} ${distinct ? "distinct" : "repeated"}`,
      );
    }
    assert.deepEqual(seen, [1000, 2], "the handler saw only the requests within the cap");
    assert.equal(conn.isClosed, false);
    conn.close();
  });
});
