// examples/hello.ts under `webfcgi serve`, requests through the package's FastCGIClient.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { FastCGIClient } from "../../mod.ts";
import { type ServedExample, serveExample, stopExample } from "./_helpers.ts";

describe("examples/hello.ts", () => {
  let app: ServedExample;
  let client: FastCGIClient;
  before(async () => {
    app = await serveExample("hello.ts");
    client = new FastCGIClient({ path: app.socket });
  });
  after(async () => {
    await client?.close();
    if (app !== undefined) assert.equal(await stopExample(app), 0, "exits 0 on SIGTERM");
  });

  it("greets by user agent", async () => {
    const response = await client.fetch("http://example.test/", {
      headers: { "user-agent": "example-test" },
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "Hello from webfcgi, example-test!\n");
  });

  it("echoes a POST body with its size and type", async () => {
    const body = new Uint8Array(200_000).map((_, i) => (i * 7) & 255);
    const response = await client.fetch("http://example.test/echo", {
      method: "POST",
      body,
      headers: { "content-type": "application/x-test" },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-echo-bytes"), "200000");
    assert.equal(response.headers.get("content-type"), "application/x-test");
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), body);
  });

  it("answers 404 elsewhere", async () => {
    const response = await client.fetch("http://example.test/nope");
    assert.equal(response.status, 404);
    assert.equal(await response.text(), "Not Found\n");
  });
});
