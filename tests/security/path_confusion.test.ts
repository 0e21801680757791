// The app must see the path the web server matched. The WHATWG URL parser
// turns `\` into `/`, resolves `.` and `..` in every spelling and ends a
// host at `\` `/` `?` `#`: built naively, `GET /public\..\admin` or
// `Host: site.example\admin?` reaches the app as `/admin`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { urlOf } from "../../src/responder/request.ts";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

const p = (o: Record<string, string>) =>
  Object.assign(Object.create(null), o) as Record<string, string>;
const path = (uri: string, host = "h.test") =>
  new URL(urlOf(p({ REQUEST_URI: uri, HTTP_HOST: host }))).pathname;

describe("request.url keeps the path the web server matched", () => {
  it("a backslash stays a backslash (percent-encoded), never a slash", () => {
    assert.equal(path("/public\\admin"), "/public%5Cadmin");
    assert.equal(path("/public\\..\\admin"), "/public%5C..%5Cadmin");
    assert.equal(path("\\\\evil.test\\x"), "/%5C%5Cevil.test%5Cx");
    // In the query a backslash means nothing to the parser: left alone.
    assert.equal(new URL(urlOf(p({ REQUEST_URI: "/a?b=\\c", HTTP_HOST: "h" }))).search, "?b=\\c");
  });

  it("tabs, newlines and spaces the parser would drop or trim are kept, encoded", () => {
    assert.equal(path("/a\tb"), "/a%09b");
    assert.equal(path("/a\r\nb"), "/a%0D%0Ab");
    assert.equal(path("/x "), "/x%20");
    const url = new URL(urlOf(p({ REQUEST_URI: "/x?q=1 ", HTTP_HOST: "h" })));
    assert.equal(url.search, "?q=1%20");
  });

  it("dot segments, in any spelling, are refused: no URL can carry them unresolved", () => {
    for (
      const uri of [
        "/public/../admin",
        "/public/./admin",
        "/public/%2e%2e/admin",
        "/public/%2E./admin",
        "/public/.%2E/admin",
        "/public/%2e/admin",
        "/public/..",
        "/public/.?x=1",
        "/..",
      ]
    ) {
      assert.throws(() => urlOf(p({ REQUEST_URI: uri, HTTP_HOST: "h" })), {
        name: "FastCGIRequestError",
        message: /"\." or "\.\." segment/,
      }, uri);
    }
  });

  it("names that only look like dots are plain segments", () => {
    for (
      const uri of ["/.well-known/x", "/a/.../b", "/a/..b", "/a/b..", "/a/.%2fb", "/a/%2e%2e%2f"]
    ) {
      assert.equal(path(uri), uri, uri);
    }
    // Dots in the query are not path segments.
    assert.equal(
      new URL(urlOf(p({ REQUEST_URI: "/a?p=../..", HTTP_HOST: "h" }))).search,
      "?p=../..",
    );
  });

  it("a Host that is not a valid authority is refused", () => {
    for (
      const host of [
        "site.example\\admin?",
        "site.example/admin",
        "site.example?x",
        "site.example#x",
        "user@site.example",
        "user:pw@site.example",
        "exa mple",
        "h\u00e9st",
        "a\r\nb",
        "[::1",
        "site.example:80x",
      ]
    ) {
      assert.throws(() => urlOf(p({ REQUEST_URI: "/public", HTTP_HOST: host })), {
        name: "FastCGIRequestError",
        message: /invalid Host/,
      }, JSON.stringify(host));
    }
  });

  it("valid hosts pass unchanged", () => {
    for (
      const host of [
        "example.test",
        "example.test:8080",
        "127.0.0.1:9000",
        "[::1]:80",
        "[::1]",
        "xn--bcher-kva.example",
        "_",
      ]
    ) {
      const url = new URL(urlOf(p({ REQUEST_URI: "/x", HTTP_HOST: host })));
      assert.equal(url.pathname, "/x", host);
      assert.equal(url.host, new URL(`http://${host}/`).host, host);
    }
  });

  it("an absolute-form target: its authority checked the same way, its path kept", () => {
    const url = new URL(urlOf(p({ REQUEST_URI: "http://good.test/a\\..\\b", HTTP_HOST: "h" })));
    assert.equal(url.host, "good.test");
    assert.equal(url.pathname, "/a%5C..%5Cb");
    assert.throws(() => urlOf(p({ REQUEST_URI: "http://user@good.test/x", HTTP_HOST: "h" })), {
      name: "FastCGIRequestError",
    });
    assert.throws(() => urlOf(p({ REQUEST_URI: "http://good.test/../x", HTTP_HOST: "h" })), {
      name: "FastCGIRequestError",
    });
  });

  it("the CGI fallback (no REQUEST_URI) encodes the decoded path back", () => {
    const url = new URL(urlOf(p({
      SCRIPT_NAME: "/app",
      PATH_INFO: "/50%?#\\x",
      QUERY_STRING: "q=1",
      HTTP_HOST: "h",
    })));
    assert.equal(url.pathname, "/app/50%25%3F%23%5Cx");
    assert.equal(decodeURIComponent(url.pathname), "/app/50%?#\\x");
    assert.equal(url.search, "?q=1");
  });

  it("a server name that is not a host name is passed over, not refused", () => {
    // nginx: `server_name ~^(www\.)?(.+)$;` makes SERVER_NAME that regex.
    const url = urlOf(p({
      REQUEST_URI: "/",
      SERVER_NAME: "~^(www\\.)?(.+)$",
      SERVER_ADDR: "127.0.0.1",
      SERVER_PORT: "8080",
    }));
    assert.equal(url, "http://127.0.0.1:8080/");
  });
});

describe("over a socket: such requests are a 400 and never reach the handler", () => {
  it("backslash dot segments, a host with a path, dot segments", async () => {
    const seen: string[] = [];
    await using app = await start((request) => {
      seen.push(new URL(request.url).pathname);
      return new Response("ok");
    });
    const cases: Array<[Record<string, string>, number, string?]> = [
      [GET("/public\\..\\admin"), 200, "/public%5C..%5Cadmin"],
      [GET("/public", { HTTP_HOST: "site.example\\admin?" }), 400],
      [GET("/public/../admin"), 400],
      [GET("/public/%2e%2e/admin"), 400],
      [GET("/public"), 200, "/public"],
    ];
    for (const [params, status, pathname] of cases) {
      seen.length = 0;
      const reply = await fetchRaw(app.target, { params });
      reply.conn.close();
      assert.equal(reply.cgi.status, status, `${params.REQUEST_URI} Host ${params.HTTP_HOST}`);
      assert.deepEqual(seen, pathname === undefined ? [] : [pathname]);
      if (status === 400) assert.equal(reply.cgi.text, "Bad Request\n");
    }
  });
});
