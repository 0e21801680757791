// The client against webfcgi's own server, in the same process, over TCP
// and over a Unix socket: requests, bodies both ways, headers, statuses, stderr.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { FastCGIClient, fetchFastCGI } from "../../client.ts";
import type { FastCGIHandler } from "../../mod.ts";
import { start, type Started } from "../support/server.ts";
import { dec, enc, hashStream, pattern, patternStream, sha256 } from "./_helpers.ts";

const MB = 1024 * 1024;

const handler: FastCGIHandler = async (request, info) => {
  const url = new URL(request.url);
  switch (url.pathname) {
    case "/echo":
      return Response.json({
        method: request.method,
        url: request.url,
        query: Object.fromEntries(url.searchParams),
        headers: Object.fromEntries(request.headers),
        params: info.params,
        body: await request.text(),
      });
    case "/hash": {
      const hash = createHash("sha256");
      let length = 0;
      for await (const chunk of request.body ?? new ReadableStream<Uint8Array>()) {
        hash.update(chunk);
        length += chunk.length;
      }
      return Response.json({
        length,
        sha256: hash.digest("hex"),
        contentLength: info.params.CONTENT_LENGTH ?? null,
      });
    }
    case "/download":
      return new Response(patternStream(Number(url.searchParams.get("bytes"))), {
        headers: { "content-type": "application/octet-stream" },
      });
    case "/cookies": {
      const headers = new Headers({ "content-type": "text/plain" });
      headers.append("set-cookie", "a=1; Path=/");
      headers.append("set-cookie", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly");
      headers.append("x-multi", "one");
      headers.append("x-multi", "two");
      return new Response("cookies", { headers });
    }
    case "/status":
      return new Response(url.searchParams.get("body"), {
        status: Number(url.searchParams.get("code")),
        statusText: url.searchParams.get("text") ?? "",
      });
    case "/redirect":
      return Response.redirect("https://example.com/next", 302);
    case "/throw":
      throw new Error("boom");
    default:
      return new Response("not here", { status: 404 });
  }
};

for (const kind of ["tcp", "unix"] as const) {
  describe(`client against webfcgi's server over ${kind}`, () => {
    let started: Started;
    let client: FastCGIClient;
    let address: string;
    const stderr: string[] = [];

    before(async () => {
      started = await start(handler, { unix: kind === "unix", onError: undefined });
      const target = started.target;
      address = "path" in target ? `unix:${target.path}` : `127.0.0.1:${target.port}`;
      client = new FastCGIClient(address, { onStderr: (text) => stderr.push(text) });
    });

    after(async () => {
      await client.close();
      await started.server.shutdown();
    });

    it("GET with a query string", async () => {
      const response = await client.fetch("http://example.com/echo?name=Ada&x=%20y&x=2", {
        headers: { "X-Test": "1", cookie: "c=1" },
      });
      assert.equal(response.status, 200);
      const echo = await response.json();
      assert.equal(echo.method, "GET");
      assert.equal(echo.url, "http://example.com/echo?name=Ada&x=%20y&x=2");
      assert.deepEqual(echo.query, { name: "Ada", x: "2" });
      assert.equal(echo.headers["x-test"], "1");
      assert.equal(echo.params.QUERY_STRING, "name=Ada&x=%20y&x=2");
      assert.equal(echo.params.HTTP_COOKIE, "c=1");
      assert.equal(echo.params.GATEWAY_INTERFACE, "CGI/1.1");
    });

    it("https requests arrive as https", async () => {
      const echo = await (await client.fetch("https://secure.example/echo")).json();
      assert.equal(echo.url, "https://secure.example/echo");
      assert.equal(echo.params.HTTPS, "on");
    });

    it("POST: the body is echoed, CONTENT_TYPE and CONTENT_LENGTH sent", async () => {
      const response = await client.fetch("http://localhost/echo", {
        method: "POST",
        body: "héllo wörld",
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
      const echo = await response.json();
      assert.equal(echo.method, "POST");
      assert.equal(echo.body, "héllo wörld");
      assert.equal(echo.params.CONTENT_LENGTH, String(enc.encode("héllo wörld").length));
      assert.equal(echo.params.CONTENT_TYPE, "text/plain; charset=utf-8");
    });

    it("a Request object and init.params", async () => {
      const request = new Request("http://localhost/echo?q=1", {
        method: "PUT",
        body: new URLSearchParams({ a: "1" }),
      });
      const echo = await (await client.fetch(request, {
        params: { SCRIPT_FILENAME: "/srv/echo", X_EXTRA: "yes" },
      })).json();
      assert.equal(echo.method, "PUT");
      assert.equal(echo.body, "a=1");
      assert.equal(echo.params.SCRIPT_FILENAME, "/srv/echo");
      assert.equal(echo.params.X_EXTRA, "yes");
    });

    it("10 MB upload: bytes, and a stream with and without bufferBody", async () => {
      const bytes = pattern(10 * MB);
      const expected = sha256(bytes);
      const asBytes =
        await (await client.fetch("http://localhost/hash", { method: "POST", body: bytes })).json();
      assert.deepEqual(asBytes, {
        length: 10 * MB,
        sha256: expected,
        contentLength: String(10 * MB),
      });

      const streamed = await (await client.fetch("http://localhost/hash", {
        method: "POST",
        body: patternStream(10 * MB, 100000),
      })).json();
      assert.deepEqual(streamed, { length: 10 * MB, sha256: expected, contentLength: null });

      const buffered = await (await client.fetch("http://localhost/hash", {
        method: "POST",
        body: patternStream(10 * MB, 100000),
        bufferBody: true,
      })).json();
      assert.deepEqual(buffered, {
        length: 10 * MB,
        sha256: expected,
        contentLength: String(10 * MB),
      });
    });

    it("large streaming download (32 MB)", async () => {
      const response = await client.fetch("http://localhost/download?bytes=" + 32 * MB);
      assert.equal(response.headers.get("content-type"), "application/octet-stream");
      const got = await hashStream(response.body!);
      assert.equal(got.length, 32 * MB);
      assert.equal(got.sha256, sha256(pattern(32 * MB)));
    });

    it("multiple Set-Cookie headers stay separate", async () => {
      const response = await client.fetch("http://localhost/cookies");
      assert.deepEqual(response.headers.getSetCookie(), [
        "a=1; Path=/",
        "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly",
      ]);
      assert.equal(response.headers.get("x-multi"), "one, two");
      assert.equal(await response.text(), "cookies");
    });

    it("status codes and reason phrases", async () => {
      const cases: Array<[number, string, string | null]> = [
        [404, "Not Found", "gone"],
        [418, "Short And Stout", "tea"],
        [500, "Internal Server Error", "oops"],
        [201, "Created", "made"],
        [204, "No Content", null],
        [304, "Not Modified", null],
      ];
      for (const [code, text, body] of cases) {
        const query = new URLSearchParams({
          code: String(code),
          text,
          ...(body === null ? {} : { body }),
        });
        const response = await client.fetch(`http://localhost/status?${query}`);
        assert.equal(response.status, code);
        assert.equal(response.statusText, text);
        if (body === null) assert.equal(response.body, null);
        else assert.equal(await response.text(), body);
      }
      const missing = await client.fetch("http://localhost/nowhere");
      assert.equal(missing.status, 404);
      assert.equal(await missing.text(), "not here");
    });

    it("a redirect keeps its Location", async () => {
      const response = await client.fetch("http://localhost/redirect");
      assert.equal(response.status, 302);
      assert.equal(response.headers.get("location"), "https://example.com/next");
      await response.body?.cancel();
    });

    it("HEAD gets no body", async () => {
      const response = await client.fetch("http://localhost/cookies", { method: "HEAD" });
      assert.equal(response.status, 200);
      assert.equal(response.body, null);
    });

    it("FCGI_STDERR goes to onStderr", async () => {
      stderr.length = 0;
      // The server logs the failure too: keep that out of the test output.
      const log = console.error;
      console.error = () => {};
      try {
        const response = await client.fetch("http://localhost/throw");
        assert.equal(response.status, 500);
        await response.text();
      } finally {
        console.error = log;
      }
      assert.match(stderr.join(""), /handler failed/);
    });

    it("fetchFastCGI: one request on a connection of its own", async () => {
      const response = await fetchFastCGI(address, "http://localhost/echo?one=1", {
        method: "POST",
        body: "x",
        params: { SCRIPT_FILENAME: "/srv/echo" },
      });
      const echo = await response.json();
      assert.equal(echo.query.one, "1");
      assert.equal(echo.body, "x");
      assert.equal(echo.params.SCRIPT_FILENAME, "/srv/echo");
      assert.equal(dec.decode(enc.encode("ok")), "ok");
    });
  });
}
