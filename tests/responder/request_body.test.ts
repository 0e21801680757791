import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { concat, fetchRaw, GET, RawConn, rec, requestBytes, T } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function bytesOf(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function echoHash(req: Request): Promise<Response> {
  const body = req.body === null ? null : new Uint8Array(await req.arrayBuffer());
  return Response.json({
    method: req.method,
    isNull: req.body === null,
    length: body?.length ?? 0,
    sha: body ? sha(body) : null,
    type: req.headers.get("content-type"),
  });
}

describe("request bodies", () => {
  for (const unix of [false, true]) {
    it(`POST with a 1 MiB body arrives whole (${unix ? "unix" : "tcp"})`, async () => {
      await using s = await start(echoHash, { unix });
      const body = bytesOf(1 << 20);
      const r = await fetchRaw(s.target, {
        params: GET("/upload", {
          REQUEST_METHOD: "POST",
          CONTENT_LENGTH: String(body.length),
          CONTENT_TYPE: "application/octet-stream",
        }),
        stdin: body,
      });
      const got = JSON.parse(r.cgi.text);
      assert.deepEqual(got, {
        method: "POST",
        isNull: false,
        length: body.length,
        sha: sha(body),
        type: "application/octet-stream",
      });
      r.conn.close();
    });
  }

  it("a body without CONTENT_LENGTH (chunked upload) is read to the empty STDIN record", async () => {
    await using s = await start(echoHash);
    const body = bytesOf(300000, 7);
    const params = GET("/c", { REQUEST_METHOD: "PUT" });
    const r = await fetchRaw(s.target, { params, stdin: body });
    const got = JSON.parse(r.cgi.text);
    assert.equal(got.length, body.length);
    assert.equal(got.sha, sha(body));
    r.conn.close();
  });

  it("GET has a null body; a POST with no STDIN data has a null body", async () => {
    await using s = await start(echoHash);
    const a = await fetchRaw(s.target, { params: GET("/") });
    assert.equal(JSON.parse(a.cgi.text).isNull, true);
    a.conn.close();
    const b = await fetchRaw(s.target, {
      params: GET("/", { REQUEST_METHOD: "POST", CONTENT_LENGTH: "0" }),
    });
    assert.equal(JSON.parse(b.cgi.text).isNull, true);
    b.conn.close();
  });

  it("streams a body that arrives slowly: the handler starts before STDIN ends", async () => {
    let started = 0;
    await using s = await start((req) => {
      started = Date.now();
      return echoHash(req);
    });
    const conn = await RawConn.connect(s.target);
    const head = requestBytes({ params: GET("/s", { REQUEST_METHOD: "POST" }) });
    // everything but the final empty STDIN record
    await conn.write(head.subarray(0, head.length - 8));
    await conn.write(rec(T.STDIN, 1, new Uint8Array([1, 2, 3])));
    await new Promise((r) => setTimeout(r, 100));
    const sent = Date.now();
    assert.ok(started > 0 && started < sent, "handler started while the body was still open");
    await conn.write(concat([rec(T.STDIN, 1, new Uint8Array([4])), rec(T.STDIN, 1)]));
    const reply = await conn.reply(1);
    const got = JSON.parse(new TextDecoder().decode(reply.stdout).split("\r\n\r\n")[1]);
    assert.equal(got.length, 4);
    conn.close();
  });

  it("every byte-split of a POST request gives the same answer", async () => {
    await using s = await start(echoHash);
    const body = bytesOf(200, 3);
    const whole = requestBytes({
      params: GET("/split", { REQUEST_METHOD: "POST", CONTENT_LENGTH: "200" }),
      stdin: body,
    });
    const expected = sha(body);
    for (let cut = 1; cut < whole.length; cut += 1) {
      const conn = await RawConn.connect(s.target);
      await conn.write(whole.subarray(0, cut));
      await conn.write(whole.subarray(cut));
      const reply = await conn.reply(1);
      const got = JSON.parse(new TextDecoder().decode(reply.stdout).split("\r\n\r\n")[1]);
      assert.equal(got.sha, expected, `split at ${cut}`);
      conn.close();
    }
  });
});
