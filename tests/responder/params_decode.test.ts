// decodeParams has a fast path (an all-ASCII block is decoded once and
// sliced) and caches names by their bytes: both must give exactly what
// decoding each name and value on its own gives.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeParams } from "../../src/responder/params.ts";
import { NameCache } from "../../src/responder/name_cache.ts";
import { buildRequest, headersOf } from "../../src/responder/request.ts";
import { pairs } from "../support/fcgi_client.ts";

const utf8 = new TextEncoder();

/** A block of raw byte pairs (names and values may be any bytes). */
function rawPairs(list: Array<[Uint8Array, Uint8Array]>): Uint8Array {
  const parts: number[] = [];
  const length = (n: number) =>
    n < 128 ? [n] : [(n >>> 24) | 0x80, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  for (const [name, value] of list) {
    parts.push(...length(name.length), ...length(value.length), ...name, ...value);
  }
  return new Uint8Array(parts);
}

describe("decodeParams", () => {
  it("an all-ASCII block: every name and value, empty values included", () => {
    const list: Array<[string, string]> = [
      ["QUERY_STRING", ""],
      ["REQUEST_METHOD", "GET"],
      ["REQUEST_URI", "/a%20b?c=d"],
      ["DOCUMENT_ROOT", "/var/www/a-rather-long-path/that/goes/on/and/on/public"],
      ["HTTP_HOST", "example.test:8080"],
      ["X", "y"],
      ["", "empty name"],
    ];
    const params = decodeParams(pairs(list));
    assert.equal(Object.getPrototypeOf(params), null);
    assert.deepEqual(Object.entries(params), list);
  });

  it("a block with UTF-8 in one value decodes the others unchanged", () => {
    const params = decodeParams(pairs([
      ["REQUEST_METHOD", "GET"],
      ["HTTP_X_NAME", "Zoë ✓"],
      ["HTTP_HOST", "h.test"],
    ]));
    assert.equal(params.REQUEST_METHOD, "GET");
    assert.equal(params.HTTP_X_NAME, "Zoë ✓");
    assert.equal(params.HTTP_HOST, "h.test");
  });

  it("a UTF-8 name, and invalid UTF-8 in a value, decode as on their own", () => {
    const params = decodeParams(rawPairs([
      [utf8.encode("HTTP_X_É"), utf8.encode("v")],
      [utf8.encode("HTTP_X_BAD"), new Uint8Array([0x61, 0xff, 0x62])],
      [utf8.encode("A"), utf8.encode("b")],
    ]));
    assert.equal(params["HTTP_X_É"], "v");
    assert.equal(params.HTTP_X_BAD, "a\ufffdb");
    assert.equal(params.A, "b");
  });

  it("a REQUEST_URI that is not UTF-8 keeps its bytes percent-encoded", () => {
    const params = decodeParams(rawPairs([
      [utf8.encode("REQUEST_URI"), new Uint8Array([0x2f, 0x78, 0xff, 0xe9, 0x3f, 0x71])],
      [utf8.encode("HTTP_HOST"), utf8.encode("h")],
    ]));
    assert.equal(params.REQUEST_URI, "/x%FF%E9?q");
    assert.equal(params.HTTP_HOST, "h");
  });

  it("a REQUEST_URI in UTF-8 decodes as text", () => {
    const params = decodeParams(pairs([["REQUEST_URI", "/café"]]));
    assert.equal(params.REQUEST_URI, "/café");
  });

  it("names longer than the cache keeps, and long values, decode", () => {
    const name = `HTTP_X_${"LONG_".repeat(40)}`;
    const value = "v".repeat(70000);
    const params = decodeParams(pairs([[name, value], ["B", "c"]]));
    assert.equal(params[name], value);
    assert.equal(params.B, "c");
  });

  it("the same block twice gives equal, independent records", () => {
    const block = pairs([["HTTP_ACCEPT", "a"], ["HTTP_COOKIE", "x=1"], ["HTTP_COOKIE", "y=2"]]);
    const first = decodeParams(block);
    const second = decodeParams(block);
    assert.notEqual(first, second);
    assert.deepEqual({ ...first }, { HTTP_ACCEPT: "a", HTTP_COOKIE: "x=1; y=2" });
    assert.deepEqual({ ...second }, { ...first });
  });

  it("thousands of distinct names (more than the cache holds) all decode right", () => {
    const list: Array<[string, string]> = [];
    // Not HTTP_ names: more than MAX_HEADER_PARAMS of those is a 431.
    for (let i = 0; i < 3000; i++) list.push([`X_VAR_${i.toString(36)}`, `v${i}`]);
    for (let round = 0; round < 2; round++) {
      const params = decodeParams(pairs(list));
      for (const [name, value] of list) assert.equal(params[name], value, name);
    }
  });
});

describe("decodeParams with headerNames", () => {
  const list: Array<[string, string]> = [
    ["REQUEST_METHOD", "POST"],
    ["REQUEST_URI", "/x"],
    ["HTTP_HOST", "h.test"],
    ["HTTP_ACCEPT", "text/html"],
    ["CONTENT_TYPE", "application/json"],
    ["HTTP_CONTENT_TYPE", "text/ignored"],
    ["HTTP_CONNECTION", "keep-alive"],
    ["HTTP_ACCEPT", "text/plain"],
    ["HTTP_COOKIE", "a=1"],
    ["HTTP_COOKIE", "b=2"],
    ["HTTP_X_É", "v"],
    ["HTTP_", "not a header"],
    ["SERVER_NAME", "s"],
  ];

  it("lists each HTTP_* name once, in first-seen order", () => {
    const names: string[] = [];
    decodeParams(pairs(list), names);
    assert.deepEqual(names, [
      "HTTP_HOST",
      "HTTP_ACCEPT",
      "HTTP_CONTENT_TYPE",
      "HTTP_CONNECTION",
      "HTTP_COOKIE",
      "HTTP_X_É",
      "HTTP_",
    ]);
  });

  it("a Request built from the list has the same headers as one built from the record", () => {
    const names: string[] = [];
    const params = decodeParams(pairs(list), names);
    const fromList = buildRequest(params, new Uint8Array([1]), names);
    const fromRecord = buildRequest(params, new Uint8Array([1]));
    assert.deepEqual([...fromList.headers], [...fromRecord.headers]);
    assert.deepEqual([...fromList.headers], [...headersOf(params)]);
    assert.equal(fromList.headers.get("accept"), "text/html, text/plain");
    assert.equal(fromList.headers.get("cookie"), "a=1; b=2");
    assert.equal(fromList.headers.get("content-type"), "application/json");
    assert.equal(fromList.headers.has("connection"), false);
  });
});

describe("NameCache", () => {
  it("gives the decoded name, and the same string on a hit", () => {
    const cache = new NameCache();
    const bytes = utf8.encode("xxHTTP_HOSTyy");
    const first = cache.get(bytes, 2, 11, null);
    assert.equal(first, "HTTP_HOST");
    assert.equal(cache.get(utf8.encode("HTTP_HOST"), 0, 9, null), "HTTP_HOST");
  });

  it("keeps every name of a typical request: the second request decodes none of them", () => {
    // A miss copies the name's bytes (slice) to keep as its key: count those.
    let copies = 0;
    class Counting extends Uint8Array {
      override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
        copies++;
        return new Uint8Array(this.subarray(start, end));
      }
    }
    const names = [
      "QUERY_STRING",
      "REQUEST_METHOD",
      "CONTENT_TYPE",
      "CONTENT_LENGTH",
      "SCRIPT_NAME",
      "REQUEST_URI",
      "DOCUMENT_URI",
      "DOCUMENT_ROOT",
      "SERVER_PROTOCOL",
      "REQUEST_SCHEME",
      "GATEWAY_INTERFACE",
      "SERVER_SOFTWARE",
      "REMOTE_ADDR",
      "REMOTE_PORT",
      "REMOTE_USER",
      "SERVER_ADDR",
      "SERVER_PORT",
      "SERVER_NAME",
      "REDIRECT_STATUS",
      "HTTPS",
      "PATH_INFO",
      "SCRIPT_FILENAME",
      "HTTP_HOST",
      "HTTP_USER_AGENT",
      "HTTP_ACCEPT",
      "HTTP_ACCEPT_LANGUAGE",
      "HTTP_ACCEPT_ENCODING",
      "HTTP_COOKIE",
      "HTTP_CONNECTION",
      "HTTP_REFERER",
      "HTTP_UPGRADE_INSECURE_REQUESTS",
      "HTTP_SEC_FETCH_DEST",
      "HTTP_SEC_FETCH_MODE",
      "HTTP_SEC_FETCH_SITE",
      "HTTP_SEC_FETCH_USER",
      "HTTP_PRIORITY",
      "HTTP_CACHE_CONTROL",
      "HTTP_PRAGMA",
      "HTTP_DNT",
      "HTTP_X_FORWARDED_FOR",
    ];
    const cache = new NameCache();
    const request = () => {
      for (const name of names) {
        const bytes = new Counting(utf8.encode(name));
        assert.equal(cache.get(bytes, 0, bytes.length, null), name);
      }
    };
    request();
    assert.equal(copies, names.length, "the first request: every name is new");
    copies = 0;
    request();
    request();
    assert.equal(copies, 0, "later requests: all hits");
  });

  it("names that differ in one byte or in length never collide", () => {
    const cache = new NameCache();
    const names = ["HTTP_A", "HTTP_B", "HTTP_AB", "HTTP_", "HTTP_AA", "http_a", "É", "e"];
    for (let round = 0; round < 3; round++) {
      for (const name of names) {
        const bytes = utf8.encode(name);
        assert.equal(cache.get(bytes, 0, bytes.length, null), name);
      }
    }
  });

  it("a hit does not depend on the buffer the name was first seen in", () => {
    const cache = new NameCache();
    const first = utf8.encode("SERVER_NAME");
    cache.get(first, 0, first.length, null);
    first.fill(0x41); // the caller may reuse its buffer
    const again = utf8.encode("SERVER_NAME");
    assert.equal(cache.get(again, 0, again.length, null), "SERVER_NAME");
    assert.equal(cache.get(first, 0, first.length, null), "AAAAAAAAAAA");
  });

  it("a long name is sliced from the ASCII text when given", () => {
    const cache = new NameCache();
    const name = "N".repeat(100);
    const bytes = utf8.encode(`--${name}`);
    assert.equal(cache.get(bytes, 2, 102, `--${name}`), name);
    assert.equal(cache.get(bytes, 2, 102, null), name);
  });
});
