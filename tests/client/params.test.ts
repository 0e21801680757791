// A standard Request as CGI params, the way nginx's fastcgi_params sends them.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { requestParams } from "../../src/client/params.ts";
import { prepareBody } from "../../src/client/body.ts";
import type { PairPart } from "../../src/protocol/pairs.ts";

function asRecord(pairs: Array<[string, PairPart]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    out[name] = typeof value === "string" ? value : String.fromCharCode(...value);
  }
  return out;
}

describe("request params", () => {
  it("maps a GET with a query like nginx", () => {
    const request = new Request("http://example.com:8080/app/index.php?a=1&b=%20x", {
      headers: { "Accept": "text/html", "X-Custom-Thing": "yes" },
    });
    const p = asRecord(requestParams(request, { length: "none" }));
    assert.equal(p.REQUEST_METHOD, "GET");
    assert.equal(p.REQUEST_URI, "/app/index.php?a=1&b=%20x");
    assert.equal(p.QUERY_STRING, "a=1&b=%20x");
    assert.equal(p.SCRIPT_NAME, "/app/index.php");
    assert.equal(p.DOCUMENT_URI, "/app/index.php");
    assert.equal(p.SERVER_PROTOCOL, "HTTP/1.1");
    assert.equal(p.SERVER_SOFTWARE, "webfcgi");
    assert.equal(p.SERVER_NAME, "example.com");
    assert.equal(p.SERVER_PORT, "8080");
    assert.equal(p.SERVER_ADDR, "127.0.0.1");
    assert.equal(p.REMOTE_ADDR, "127.0.0.1");
    assert.equal(p.REMOTE_PORT, "0");
    assert.equal(p.REQUEST_SCHEME, "http");
    assert.equal(p.HTTPS, undefined);
    assert.equal(p.GATEWAY_INTERFACE, "CGI/1.1");
    assert.equal(p.CONTENT_TYPE, "");
    assert.equal(p.CONTENT_LENGTH, "");
    assert.equal(p.HTTP_HOST, "example.com:8080");
    assert.equal(p.HTTP_ACCEPT, "text/html");
    assert.equal(p.HTTP_X_CUSTOM_THING, "yes");
    assert.equal(p.REDIRECT_STATUS, "200");
  });

  it("https sets HTTPS=on, scheme and the default port; the path is decoded", () => {
    const p = asRecord(requestParams(new Request("https://[::1]/caf%C3%A9/x"), { length: "none" }));
    assert.equal(p.HTTPS, "on");
    assert.equal(p.REQUEST_SCHEME, "https");
    assert.equal(p.SERVER_PORT, "443");
    assert.equal(p.SERVER_NAME, "::1");
    assert.equal(p.HTTP_HOST, "[::1]");
    assert.equal(p.REQUEST_URI, "/caf%C3%A9/x");
    assert.equal(p.SCRIPT_NAME, "/café/x");
  });

  it("merges repeated Cookie headers with '; '", () => {
    const headers = new Headers();
    headers.append("cookie", "a=1");
    headers.append("cookie", "b=2; c=3");
    const p = asRecord(requestParams(new Request("http://h/", { headers }), { length: "none" }));
    assert.equal(p.HTTP_COOKIE, "a=1; b=2; c=3");
  });

  it("CONTENT_LENGTH: known, unknown (absent) and none (empty)", () => {
    const post = new Request("http://h/", {
      method: "POST",
      body: "x=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    const known = asRecord(requestParams(post, { length: 3 }));
    assert.equal(known.CONTENT_LENGTH, "3");
    assert.equal(known.CONTENT_TYPE, "application/x-www-form-urlencoded");
    const unknown = asRecord(requestParams(post, { length: null }));
    assert.equal("CONTENT_LENGTH" in unknown, false);
  });

  it("client-wide and per-request params add and override, in that order", () => {
    const p = asRecord(requestParams(
      new Request("http://h/index.php"),
      { length: "none" },
      { DOCUMENT_ROOT: "/srv", SERVER_SOFTWARE: "mine" },
      { SCRIPT_FILENAME: "/srv/index.php", REMOTE_ADDR: "203.0.113.9", SERVER_SOFTWARE: "theirs" },
    ));
    assert.equal(p.DOCUMENT_ROOT, "/srv");
    assert.equal(p.SCRIPT_FILENAME, "/srv/index.php");
    assert.equal(p.REMOTE_ADDR, "203.0.113.9");
    assert.equal(p.SERVER_SOFTWARE, "theirs");
  });

  it("header values go as their bytes", () => {
    const request = new Request("http://h/", { headers: { "x-latin": "caf\u00e9" } });
    const pairs = requestParams(request, { length: "none" });
    const value = pairs.find(([name]) => name === "HTTP_X_LATIN")![1];
    assert.deepEqual([...(value as Uint8Array)], [0x63, 0x61, 0x66, 0xe9]);
  });
});

describe("request body length", () => {
  const url = "http://h/";
  it("is known for strings, bytes, URLSearchParams, FormData and Blob", async () => {
    const cases: BodyInit[] = [
      "héllo",
      new Uint8Array(7),
      new URLSearchParams({ a: "1" }),
      new Blob(["abcd"]),
    ];
    const lengths = [6, 7, 3, 4];
    for (let i = 0; i < cases.length; i++) {
      const request = new Request(url, { method: "POST", body: cases[i] });
      const body = await prepareBody(request, cases[i], false);
      const length = body.kind === "bytes"
        ? body.bytes.length
        : body.kind === "stream"
        ? body.length
        : -1;
      assert.equal(length, lengths[i]);
    }
    const form = new FormData();
    form.append("name", "Ada");
    const request = new Request(url, { method: "POST", body: form });
    const body = await prepareBody(request, form, false);
    assert.equal(body.kind, "bytes");
    assert.ok(body.kind === "bytes" && body.bytes.length > 10);
  });

  it("is unknown for a stream unless buffered or declared", async () => {
    const stream = () =>
      new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(5));
          c.close();
        },
      });
    const init = (body: ReadableStream, headers?: HeadersInit) =>
      ({ method: "POST", body, headers, duplex: "half" }) as RequestInit;
    const s1 = stream();
    const unknown = await prepareBody(new Request(url, init(s1)), s1, false);
    assert.deepEqual([unknown.kind, unknown.kind === "stream" && unknown.length], ["stream", null]);
    const s2 = stream();
    const buffered = await prepareBody(new Request(url, init(s2)), s2, true);
    assert.equal(buffered.kind === "bytes" && buffered.bytes.length, 5);
    const declared = await prepareBody(
      new Request(url, init(stream(), { "content-length": "5" })),
      undefined,
      false,
    );
    assert.equal(declared.kind === "stream" && declared.length, 5);
    assert.equal((await prepareBody(new Request(url), undefined, true)).kind, "none");
  });
});
