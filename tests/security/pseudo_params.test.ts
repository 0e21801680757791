// Hiawatha sends HTTP_SCHEME and HTTP_RETURN_CODE, params of its own that
// are not request headers, after the client's header params. They must not
// become request headers, nor merge into a client's header of that name.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeParams } from "../../src/responder/params.ts";
import { buildRequest } from "../../src/responder/request.ts";
import { fetchRaw, GET, pairs } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

/** The params Hiawatha 10.9 sends, in its order: client headers, then its own. */
function hiawatha(clientHeaders: Array<[string, string]>): Array<[string, string]> {
  return [
    ["REQUEST_METHOD", "GET"],
    ["REQUEST_URI", "/app"],
    ["SERVER_NAME", "127.0.0.1"],
    ["SERVER_SOFTWARE", "Hiawatha v10.9"],
    ["REMOTE_ADDR", "127.0.0.1"],
    ["HTTP_HOST", "127.0.0.1:8080"],
    ...clientHeaders,
    ["HTTP_SCHEME", "http"],
    ["HTTP_RETURN_CODE", "200"],
  ];
}

function requestOf(
  list: Array<[string, string]>,
): { request: Request; params: Record<string, string> } {
  const names: string[] = [];
  const params = decodeParams(pairs(list), names);
  return { request: buildRequest(params, null, names), params };
}

describe("server pseudo-params are not request headers", () => {
  it("Hiawatha's HTTP_SCHEME and HTTP_RETURN_CODE alone: no such headers", () => {
    const { request, params } = requestOf(hiawatha([["HTTP_ACCEPT", "*/*"]]));
    assert.equal(request.headers.get("scheme"), null);
    assert.equal(request.headers.get("return-code"), null);
    assert.equal(request.headers.get("accept"), "*/*");
    assert.equal(params.HTTP_SCHEME, "http", "info.params keeps what was sent");
    assert.equal(new URL(request.url).protocol, "http:");
  });

  it("a client's own Scheme and Return-Code headers reach the app unmerged", () => {
    const { request, params } = requestOf(hiawatha([
      ["HTTP_SCHEME", "evil"],
      ["HTTP_RETURN_CODE", "999"],
    ]));
    assert.equal(request.headers.get("scheme"), "evil");
    assert.equal(request.headers.get("return-code"), "999");
    assert.equal(params.HTTP_SCHEME, "evil, http");
    assert.equal(params.HTTP_RETURN_CODE, "999, 200");
  });

  it("a client header that is itself a list keeps all its parts", () => {
    const { request } = requestOf(hiawatha([["HTTP_SCHEME", "a, b"], ["HTTP_SCHEME", ""]]));
    // Headers trims the trailing space of the empty last part.
    assert.equal(request.headers.get("scheme"), "a, b,");
  });

  it("from other servers, HTTP_SCHEME is a client's header like any other", () => {
    const { request } = requestOf([
      ["REQUEST_URI", "/"],
      ["HTTP_HOST", "h"],
      ["SERVER_SOFTWARE", "nginx/1.22.1"],
      ["HTTP_SCHEME", "x"],
    ]);
    assert.equal(request.headers.get("scheme"), "x");
  });

  it("over a socket", async () => {
    let headers: Headers | undefined;
    await using app = await start((request) => {
      headers = request.headers;
      return new Response("ok");
    });
    const reply = await fetchRaw(app.target, {
      params: [...Object.entries(GET("/app", { SERVER_SOFTWARE: "Hiawatha v10.9" })), [
        "HTTP_SCHEME",
        "http",
      ], ["HTTP_RETURN_CODE", "200"]],
    });
    reply.conn.close();
    assert.equal(reply.cgi.status, 200);
    assert.equal(headers?.has("scheme"), false);
    assert.equal(headers?.has("return-code"), false);
  });
});
