import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeParams } from "../../src/responder/params.ts";
import { buildRequest, headersOf, urlOf } from "../../src/responder/request.ts";
import { pairs } from "../support/fcgi_client.ts";

const p = (o: Record<string, string>) =>
  Object.assign(Object.create(null), o) as Record<string, string>;

describe("params -> Request", () => {
  it("builds the URL from REQUEST_URI, raw, with the query", () => {
    assert.equal(
      urlOf(p({ REQUEST_URI: "/a%2Fb/c?x=1&y=%20", HTTP_HOST: "h.test" })),
      "http://h.test/a%2Fb/c?x=1&y=%20",
    );
  });
  it("falls back to SCRIPT_NAME + PATH_INFO + QUERY_STRING", () => {
    assert.equal(
      urlOf(p({ SCRIPT_NAME: "/app", PATH_INFO: "/x/y", QUERY_STRING: "q=1", HTTP_HOST: "h" })),
      "http://h/app/x/y?q=1",
    );
    assert.equal(urlOf(p({ HTTP_HOST: "h" })), "http://h/");
  });
  it("takes the scheme from HTTPS, then REQUEST_SCHEME", () => {
    assert.equal(urlOf(p({ REQUEST_URI: "/", HTTP_HOST: "h", HTTPS: "on" })), "https://h/");
    assert.equal(urlOf(p({ REQUEST_URI: "/", HTTP_HOST: "h", HTTPS: "off" })), "http://h/");
    assert.equal(urlOf(p({ REQUEST_URI: "/", HTTP_HOST: "h", HTTPS: "" })), "http://h/");
    assert.equal(
      urlOf(p({ REQUEST_URI: "/", HTTP_HOST: "h", REQUEST_SCHEME: "https" })),
      "https://h/",
    );
  });
  it("takes the host from HTTP_HOST, else SERVER_NAME:SERVER_PORT", () => {
    assert.equal(
      urlOf(p({ REQUEST_URI: "/", SERVER_NAME: "s.test", SERVER_PORT: "8080" })),
      "http://s.test:8080/",
    );
    assert.equal(
      urlOf(p({ REQUEST_URI: "/", SERVER_NAME: "s.test", SERVER_PORT: "80" })),
      "http://s.test/",
    );
    assert.equal(
      urlOf(p({ REQUEST_URI: "/", SERVER_NAME: "s.test", SERVER_PORT: "443", HTTPS: "on" })),
      "https://s.test/",
    );
    assert.equal(
      urlOf(p({ REQUEST_URI: "/", SERVER_ADDR: "::1", SERVER_PORT: "81" })),
      "http://[::1]:81/",
    );
  });
  it("maps HTTP_* and CONTENT_* params to headers, dropping hop-by-hop ones", () => {
    const headers = headersOf(p({
      HTTP_X_FORWARDED_FOR: "1.2.3.4",
      HTTP_ACCEPT: "text/html",
      CONTENT_TYPE: "application/json",
      CONTENT_LENGTH: "12",
      HTTP_CONTENT_TYPE: "text/ignored",
      HTTP_TRANSFER_ENCODING: "chunked",
      HTTP_CONNECTION: "keep-alive",
      SERVER_NAME: "not a header",
    }));
    assert.deepEqual([...headers], [
      ["accept", "text/html"],
      ["content-length", "12"],
      ["content-type", "application/json"],
      ["x-forwarded-for", "1.2.3.4"],
    ]);
  });
  it("drops empty and -1 CONTENT_LENGTH", () => {
    assert.equal(headersOf(p({ CONTENT_LENGTH: "" })).has("content-length"), false);
    assert.equal(headersOf(p({ CONTENT_LENGTH: "-1" })).has("content-length"), false);
  });
  it("keeps non-ASCII header values as their UTF-8 bytes", () => {
    const value = headersOf(p({ HTTP_X_NAME: "é" })).get("x-name")!;
    assert.deepEqual([...value].map((c) => c.charCodeAt(0)), [0xc3, 0xa9]);
  });
  it("merges repeated params: cookies with '; ', others with ', '", () => {
    const params = decodeParams(pairs([
      ["HTTP_COOKIE", "a=1"],
      ["HTTP_ACCEPT", "text/html"],
      ["HTTP_COOKIE", "b=2"],
      ["HTTP_ACCEPT", "text/plain"],
    ]));
    assert.equal(params.HTTP_COOKIE, "a=1; b=2");
    assert.equal(params.HTTP_ACCEPT, "text/html, text/plain");
    assert.equal(Object.getPrototypeOf(params), null);
  });
  it("builds a Request with method, headers and body; GET never has a body", async () => {
    const post = buildRequest(
      p({ REQUEST_METHOD: "POST", REQUEST_URI: "/f", HTTP_HOST: "h", CONTENT_TYPE: "text/plain" }),
      new TextEncoder().encode("body!"),
    );
    assert.equal(post.method, "POST");
    assert.equal(await post.text(), "body!");
    const get = buildRequest(p({ REQUEST_URI: "/", HTTP_HOST: "h" }), new Uint8Array([1]));
    assert.equal(get.method, "GET");
    assert.equal(get.body, null);
  });
  it("rejects params that cannot form a URL with FastCGIRequestError", () => {
    assert.throws(
      () =>
        buildRequest(
          p({ REQUEST_URI: "/", HTTP_HOST: "bad host/x y" }),
          null,
        ),
      { name: "FastCGIRequestError" },
    );
  });
});
