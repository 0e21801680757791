// examples/filter.ts driven by the raw test client in the Filter role:
// FCGI_DATA in, an HTML page out, streamed.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  concat,
  fetchRaw,
  GET,
  parseCgi,
  RawConn,
  rec,
  requestBytes,
  stream,
  T,
} from "../support/fcgi_client.ts";
import { type ServedExample, serveExample, stopExample } from "./_helpers.ts";

const FILTER = 3;
const encoder = new TextEncoder();
const page = (title: string, body: string) =>
  `<!doctype html>\n<meta charset="utf-8">\n<title>${title}</title>\n<pre>${body}</pre>\n`;

describe("examples/filter.ts", () => {
  let app: ServedExample;
  before(async () => {
    app = await serveExample("filter.ts");
  });
  after(async () => {
    if (app !== undefined) assert.equal(await stopExample(app), 0, "exits 0 on SIGTERM");
  });

  it("turns the FCGI_DATA file into escaped HTML with its Last-Modified", async () => {
    const file = encoder.encode('if (a < b && c > "d") { é — 😀 }\n<script>x</script>\n');
    const conn = await RawConn.connect({ path: app.socket });
    // DATA in 5-byte records: multi-byte characters are split across records.
    await conn.write(concat([
      requestBytes({
        role: FILTER,
        params: GET("/notes/a&b.txt", {
          FCGI_DATA_LAST_MOD: "1700000000",
          FCGI_DATA_LENGTH: String(file.length),
        }),
      }),
      stream(T.DATA, 1, file, 5),
    ]));
    const reply = await conn.reply(1);
    conn.close();
    const cgi = parseCgi(reply.stdout);
    assert.equal(cgi.status, 200);
    assert.deepEqual(
      cgi.headers,
      [
        ["content-type", "text/html; charset=utf-8"],
        ["last-modified", "Tue, 14 Nov 2023 22:13:20 GMT"],
      ],
    );
    assert.equal(
      cgi.text,
      page(
        "a&amp;b.txt",
        "if (a &lt; b &amp;&amp; c &gt; &quot;d&quot;) { é — 😀 }\n&lt;script&gt;x&lt;/script&gt;\n",
      ),
    );
    assert.equal(reply.protocolStatus, 0);
  });

  it("streams: the page starts before the whole file has arrived", async () => {
    const line = encoder.encode("x".repeat(99) + "\n");
    const conn = await RawConn.connect({ path: app.socket });
    await conn.write(
      requestBytes({ role: FILTER, params: GET("/big.txt", { FCGI_DATA_LENGTH: "2000" }) }),
    );
    await conn.write(concat(Array.from({ length: 10 }, () => rec(T.DATA, 1, line))));
    const started = await conn.until(
      () => parseCgiSoFar(conn).includes("x".repeat(99)),
      5000,
    );
    assert.ok(started, "half the file is already out as HTML while the rest is unsent");
    assert.ok(!conn.records.some((r) => r.type === T.END), "and the request is not finished");
    await conn.write(
      concat([...Array.from({ length: 10 }, () => rec(T.DATA, 1, line)), rec(T.DATA, 1)]),
    );
    const reply = await conn.reply(1);
    conn.close();
    assert.equal(
      parseCgi(reply.stdout).text,
      page("big.txt", "x".repeat(99).concat("\n").repeat(20)),
    );
  });

  it("refuses to act as a responder", async () => {
    const reply = await fetchRaw({ path: app.socket }, { params: GET("/a.txt") });
    reply.conn.close();
    assert.equal(reply.cgi.status, 500);
    assert.match(reply.cgi.text, /FastCGI Filter/);
  });
});

/** The STDOUT text received so far. */
function parseCgiSoFar(conn: RawConn): string {
  return new TextDecoder().decode(
    concat(conn.records.filter((r) => r.type === T.STDOUT).map((r) => r.content)),
  );
}
