// The CGI header block of a response (RFC 3875 section 6).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { findHeadEnd, parseCgiHead } from "../../src/client/cgi_head.ts";

const enc = new TextEncoder();
const head = (text: string) => parseCgiHead(enc.encode(text));

describe("CGI response head", () => {
  it("finds the blank line with CRLF or LF, also across chunks", () => {
    assert.equal(findHeadEnd(enc.encode("A: b\r\n\r\nbody"), 0), 8);
    assert.equal(findHeadEnd(enc.encode("A: b\n\nbody"), 0), 6);
    assert.equal(findHeadEnd(enc.encode("\r\nbody"), 0), 2);
    assert.equal(findHeadEnd(enc.encode("A: b\r\n\r"), 0), -1);
    // the caller rescans from where the previous chunk ended
    assert.equal(findHeadEnd(enc.encode("A: b\r\n\r\n"), 7), 8);
    assert.equal(findHeadEnd(enc.encode("A: b\n\n"), 5), 6);
  });

  it("parses Status with and without a reason; defaults to 200", () => {
    assert.deepEqual([
      head("Status: 404 Not Found").status,
      head("Status: 404 Not Found").statusText,
    ], [404, "Not Found"]);
    assert.equal(head("Status: 201").status, 201);
    assert.equal(head("Status: 201").statusText, "");
    assert.equal(head("status: 418 I'm a teapot").statusText, "I'm a teapot");
    assert.equal(head("Content-Type: text/plain").status, 200);
    assert.equal(head("Content-Type: text/plain").headers.has("status"), false);
  });

  it("keeps every header, Set-Cookie one by one, and folds continuation lines", () => {
    const h = head(
      "Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2, c=3\r\nX-Multi: one\r\nX-Multi: two\r\nX-Long: start\r\n  more",
    );
    assert.deepEqual(h.headers.getSetCookie(), ["a=1; Path=/", "b=2, c=3"]);
    assert.equal(h.headers.get("x-multi"), "one, two");
    assert.equal(h.headers.get("x-long"), "start more");
  });

  it("Location: absolute without Status is 302, local stays 200, Status wins", () => {
    assert.equal(head("Location: https://example.com/next").status, 302);
    assert.equal(head("Location: /local/path").status, 200);
    assert.equal(head("Location: /local/path").headers.get("location"), "/local/path");
    assert.equal(head("Status: 301 Moved\r\nLocation: /x").status, 301);
    assert.equal(head("Location: http://example.com/\r\nStatus: 303 See Other").status, 303);
  });

  it("keeps header bytes as bytes (latin1 in, byte string out)", () => {
    const bytes = new Uint8Array([...enc.encode("X-Bytes: "), 0xc3, 0xa9]);
    assert.equal(parseCgiHead(bytes).headers.get("x-bytes"), "\u00c3\u00a9");
  });

  it("rejects malformed blocks", () => {
    assert.throws(() => head("no colon here"), RangeError);
    assert.throws(() => head("Status: abc"), RangeError);
    assert.throws(() => head("Status: 99 Low"), RangeError);
    assert.throws(() => head("Status: 600 High"), RangeError);
    assert.throws(() => head("Status: 100 Continue"), RangeError);
  });
});
