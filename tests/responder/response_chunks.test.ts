// Body chunks of every size around the small-chunk path (copied into one
// record) and the large one (header, the bytes as given, padding), many
// responses interleaved on several connections: the records stay well
// formed and every body arrives intact.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concat, fetchRaw, GET, RawConn, requestBytes, T } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

const SIZES = [0, 1, 7, 8, 9, 4087, 4088, 4089, 8192, 65527, 65528, 65529, 200001];

function pattern(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed) & 255;
  return bytes;
}

function checkRecords(records: Array<{ type: number; content: Uint8Array; padding: number }>) {
  const stdout = records.filter((r) => r.type === T.STDOUT);
  stdout.slice(0, -1).forEach((r, i) => {
    assert.ok(r.content.length > 0, `no empty STDOUT record before the end (record ${i})`);
    assert.ok(r.content.length <= 65528);
    assert.equal((r.content.length + r.padding) % 8, 0, "padded to 8");
  });
  assert.equal(stdout.at(-1)!.content.length, 0, "STDOUT ends with its empty record");
  assert.equal(records.at(-1)!.type, T.END);
}

describe("response body chunks", () => {
  for (const size of SIZES) {
    it(`a ${size}-byte body as one chunk, as bytes and as a stream`, async () => {
      const body = pattern(size, size);
      await using s = await start((request) =>
        new URL(request.url).pathname === "/bytes" ? new Response(body) : new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(body);
              c.close();
            },
          }),
        )
      );
      for (const path of ["/bytes", "/stream"]) {
        const r = await fetchRaw(s.target, { params: GET(path) });
        assert.equal(r.cgi.status, 200);
        assert.deepEqual(r.cgi.body, body, path);
        checkRecords(r.records);
        r.conn.close();
      }
    });
  }

  it("a stream of mixed chunks, empty ones included, arrives in order", async () => {
    const chunks = SIZES.map((size, i) => pattern(size, i));
    await using s = await start(() =>
      new Response(
        new ReadableStream({
          async pull(c) {
            const next = chunks.shift();
            if (next === undefined) return c.close();
            c.enqueue(next);
            c.enqueue(new Uint8Array(0));
            await new Promise((resolve) => setTimeout(resolve, 1));
          },
        }),
      )
    );
    const expected = concat(SIZES.map((size, i) => pattern(size, i)));
    const r = await fetchRaw(s.target, { params: GET("/") });
    assert.deepEqual(r.cgi.body, expected);
    checkRecords(r.records);
    r.conn.close();
  });

  it("a string body and a string stream chunk are sent as UTF-8", async () => {
    await using s = await start((request) =>
      new URL(request.url).pathname === "/text" ? new Response("héllo ✓") : new Response(
        new ReadableStream({
          start(c) {
            c.enqueue("str ✓" as unknown as Uint8Array);
            c.close();
          },
        }),
      )
    );
    const text = await fetchRaw(s.target, { params: GET("/text") });
    assert.equal(text.cgi.text, "héllo ✓");
    text.conn.close();
    const streamed = await fetchRaw(s.target, { params: GET("/stream") });
    assert.equal(streamed.cgi.text, "str ✓");
    streamed.conn.close();
  });

  it("an empty body and a null body end cleanly", async () => {
    await using s = await start((request) =>
      new URL(request.url).pathname === "/empty" ? new Response("") : new Response(null)
    );
    for (const path of ["/empty", "/null"]) {
      const r = await fetchRaw(s.target, { params: GET(path) });
      assert.equal(r.cgi.status, 200);
      assert.equal(r.cgi.body.length, 0, path);
      checkRecords(r.records);
      r.conn.close();
    }
  });

  it("many small responses interleaved over several kept connections stay intact", async () => {
    await using s = await start((request) => {
      const n = Number(new URL(request.url).searchParams.get("n"));
      return new Response(`response ${n} `.repeat(1 + (n % 50)));
    });
    const conns = await Promise.all(
      Array.from({ length: 8 }, () => RawConn.connect(s.target)),
    );
    for (let round = 0; round < 25; round++) {
      await Promise.all(conns.map(async (conn, c) => {
        const n = round * 8 + c;
        conn.clear();
        await conn.write(requestBytes({ params: GET(`/?n=${n}`), keepConn: true }));
        const reply = await conn.reply(1);
        assert.equal(
          new TextDecoder().decode(reply.stdout).split("\r\n\r\n")[1],
          `response ${n} `.repeat(1 + (n % 50)),
        );
        checkRecords(reply.records);
      }));
    }
    for (const conn of conns) conn.close();
  });
});
