// examples/hono.ts: a Hono app (npm "hono", resolved from node_modules on
// all three runtimes) served unchanged by `webfcgi serve`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { FastCGIClient } from "../../mod.ts";
import { runtimeName } from "../support/runtime.ts";
import { type ServedExample, serveExample, stopExample } from "./_helpers.ts";

describe("examples/hono.ts", () => {
  let app: ServedExample;
  let client: FastCGIClient;
  before(async () => {
    app = await serveExample("hono.ts");
    client = new FastCGIClient({ path: app.socket });
  });
  after(async () => {
    await client?.close();
    if (app !== undefined) assert.equal(await stopExample(app), 0, "exits 0 on SIGTERM");
  });

  it("serves a Hono text route", async () => {
    const response = await client.fetch("http://example.test/");
    assert.equal(response.status, 200);
    // Bun's Response constructor leaves Content-Type out of the headers of a
    // string body (oven-sh/bun#8530, open; Bun.serve adds it on the wire
    // only), so on Bun a c.text() response reaches FastCGI without one and
    // the web server's default type applies. Deno and Node follow the spec.
    const type = runtimeName === "bun" ? null : "text/plain;charset=UTF-8";
    assert.equal(response.headers.get("content-type"), type);
    assert.equal(await response.text(), "Hello from Hono over FastCGI!\n");
  });

  it("routes with a parameter and answers JSON", async () => {
    const response = await client.fetch("http://example.test/hello/Ada%20L");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await response.json(), { hello: "Ada L" });
  });

  it("reads a JSON request body", async () => {
    const response = await client.fetch("http://example.test/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ n: [1, 2, 3] }),
    });
    assert.equal(response.status, 201);
    assert.deepEqual(await response.json(), { echo: { n: [1, 2, 3] } });
  });

  it("gives routes the FastCGI params as c.env (raw client, REMOTE_ADDR as a web server sends it)", async () => {
    const reply = await fetchRaw({ path: app.socket }, {
      params: GET("/whoami", { REMOTE_ADDR: "203.0.113.9" }),
    });
    reply.conn.close();
    assert.equal(reply.cgi.status, 200);
    assert.equal(reply.cgi.text, "203.0.113.9 via responder\n");
  });

  it("answers Hono's own 404", async () => {
    const response = await client.fetch("http://example.test/missing");
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
});
