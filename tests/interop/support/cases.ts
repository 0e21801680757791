// The HTTP cases every web server variant runs. Each case asserts the value
// expected for this variant (ctx.traits) and returns ctx.outcome(...keys):
// "pass" when the variant behaves like BASELINE on those keys, else
// "expected-difference: <why>" from the variant's `why`. A thrown assertion
// is a "fail".
import assert from "node:assert/strict";
import type { AbortRecord } from "./app.ts";
import { bigValue } from "./app.ts";
import {
  HttpConnection,
  type HttpRequest,
  type HttpResponse,
  request,
  sleep,
} from "./http_client.ts";
import { patternBytes, patternSha256, patternStream, sha256 } from "./pattern.ts";
import type { Outcome } from "./results.ts";
import { runtimeName } from "./runtime.ts";
import type { Traits, VariantSpec } from "./servers/types.ts";
import type { FcgiTap } from "./tap.ts";

export interface CaseContext {
  server: string;
  variant: VariantSpec;
  traits: Traits;
  /** HTTP port of the web server on 127.0.0.1. */
  port: number;
  /** The wire tap between server and app, when there is one. */
  tap: FcgiTap | null;
  /** "pass", or "expected-difference: why" for the keys where this variant differs from BASELINE. */
  outcome(...keys: Array<keyof Traits>): Outcome;
  /** Resolves once request.signal fired for an `endless?token=` request (null after ms). */
  waitAbort(token: string, ms: number): Promise<AbortRecord | null>;
  /** A token unique to this run. */
  token(label: string): string;
  /** An HTTP request to the server (Connection: close). */
  http(req: HttpRequest): Promise<HttpResponse>;
}

export interface HttpCase {
  name: string;
  title: string;
  /** ms; default 30000 */
  timeout?: number;
  /** Only for variants with a tap / with a spawned app. */
  needs?: "tap" | "spawn";
  /** Library log lines this case may cause (in-process apps); any other "webfcgi:" line fails it. */
  allowLog?: RegExp;
  run(ctx: CaseContext): Promise<Outcome>;
}

interface Echo {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  params: Record<string, string>;
  role: string;
  body: { bytes: number; sha256: string } | null;
  runtime: string;
}

function echoOf(r: HttpResponse): Echo {
  assert.equal(r.status, 200, `status ${r.status}: ${r.text().slice(0, 300)}`);
  return r.json<Echo>();
}

function header(e: Echo, name: string): string | null {
  const found = e.headers.find(([n]) => n === name);
  return found === undefined ? null : found[1];
}

function expectedHost(ctx: CaseContext): string {
  return ctx.traits.hostPort ? `127.0.0.1:${ctx.port}` : "127.0.0.1";
}

/** Arrival time (ms) of each SSE event, from the chunk timestamps. */
function eventTimes(r: HttpResponse): number[] {
  const times: number[] = [];
  const text = new TextDecoder().decode(r.body);
  let offset = 0;
  let chunk = 0;
  let chunkEnd = r.chunks.length > 0 ? r.chunks[0].size : 0;
  for (;;) {
    const at = text.indexOf("\n\n", offset);
    if (at < 0) break;
    const byteEnd = new TextEncoder().encode(text.slice(0, at + 2)).length;
    while (chunk < r.chunks.length - 1 && chunkEnd < byteEnd) chunkEnd += r.chunks[++chunk].size;
    times.push(r.chunks[chunk]?.at ?? 0);
    offset = at + 2;
  }
  return times;
}

async function sseCase(ctx: CaseContext, accel: boolean): Promise<Outcome> {
  const n = 5;
  const ms = 250;
  const r = await ctx.http({ target: `/app/sse?n=${n}&ms=${ms}${accel ? "&accel=no" : ""}` });
  assert.equal(r.status, 200);
  assert.match(r.get("content-type") ?? "", /^text\/event-stream/);
  const times = eventTimes(r);
  assert.equal(times.length, n, `events: ${r.text()}`);
  const spread = times[n - 1] - times[0];
  const streams = accel ? ctx.traits.streamsWithAccelNo : ctx.traits.streams;
  const detail = `arrivals ${times.map((t) => Math.round(t)).join(", ")} ms`;
  if (streams) {
    assert.ok(spread >= (n - 1) * ms * 0.6, `events should arrive spread out: ${detail}`);
    assert.ok(times[0] < (n - 1) * ms * 0.5, `first event should arrive early: ${detail}`);
  } else {
    assert.ok(spread < ms * 0.6, `expected buffering (all events at the end): ${detail}`);
  }
  return ctx.outcome(accel ? "streamsWithAccelNo" : "streams");
}

async function noStray(
  ctx: CaseContext,
  first: HttpRequest,
  check: (r: HttpResponse) => void,
): Promise<void> {
  // On a kept-alive connection: a body the server let through would corrupt the next response.
  const conn = await HttpConnection.open(ctx.port);
  try {
    check(await conn.request(first));
    const next = await conn.request({ target: "/app/text" });
    assert.equal(next.status, 200);
    assert.equal(next.text(), "hello interop\n");
  } finally {
    conn.close();
  }
}

/** A 204/304 on a kept-alive connection, then the stray chunk the server sent after it. */
async function strayChunk(ctx: CaseContext, code: number): Promise<void> {
  const conn = await HttpConnection.open(ctx.port);
  try {
    const r = await conn.request({ target: `/app/status?code=${code}` });
    assert.equal(r.status, code);
    assert.equal(r.get("transfer-encoding"), "chunked");
    await assert.rejects(conn.request({ target: "/app/text" }), /bad status line: "0"/);
  } finally {
    conn.close();
  }
}

let uploadBody: Uint8Array | null = null;
const TEN_MB = 10 * 1024 * 1024;
const FIFTY_MB = 50 * 1024 * 1024;

export const HTTP_CASES: HttpCase[] = [
  {
    name: "url-mapping",
    title: "URL, host, path and query reach request.url",
    async run(ctx) {
      const e = echoOf(await ctx.http({ target: "/app/echo/sub/path?x=1&y=%20z" }));
      const url = new URL(e.url);
      assert.equal(e.method, "GET");
      assert.equal(url.protocol, "http:");
      assert.equal(url.host, expectedHost(ctx));
      assert.equal(url.pathname, "/app/echo/sub/path");
      assert.equal(url.search, "?x=1&y=%20z");
      assert.equal(e.params.QUERY_STRING, "x=1&y=%20z");
      assert.equal(e.params.REMOTE_ADDR, "127.0.0.1");
      assert.equal(e.params.SERVER_PORT, String(ctx.port));
      return ctx.outcome("hostPort");
    },
  },
  {
    name: "url-no-host",
    title: "HTTP/1.0 without a Host header still gives a valid request.url",
    async run(ctx) {
      const e = echoOf(
        await ctx.http({ target: "/app/echo/old?v=1", version: "HTTP/1.0", noHost: true }),
      );
      const url = new URL(e.url);
      assert.equal(url.host, ctx.traits.hostWithoutHeader || `127.0.0.1:${ctx.port}`);
      assert.equal(url.pathname + url.search, "/app/echo/old?v=1");
      return ctx.outcome("hostWithoutHeader");
    },
  },
  {
    name: "url-latin1-bytes",
    title:
      "raw bytes that are not UTF-8 in the target reach request.url percent-encoded, not replaced",
    async run(ctx) {
      const target = new Uint8Array([
        ...new TextEncoder().encode("/app/echo/x"),
        0xff,
        0xe9,
        ...new TextEncoder().encode("?q="),
        0xe9,
      ]);
      const r = await ctx.http({ target: "(raw)", rawTarget: target });
      // A server that refuses raw UTF-8 refuses these bytes too.
      const refused = ctx.traits.rawUtf8Target !== true
        ? ctx.traits.rawUtf8Target
        : ctx.traits.rawNonUtf8Target;
      if (refused !== true) {
        assert.equal(r.status, refused);
      } else {
        const url = new URL(echoOf(r).url);
        assert.equal(url.pathname, "/app/echo/x%FF%E9");
        assert.equal(url.search, "?q=%E9");
      }
      return ctx.outcome("rawUtf8Target", "rawNonUtf8Target");
    },
  },
  {
    name: "url-non-ascii",
    title: "non-ASCII paths: percent-encoded and raw UTF-8 bytes",
    async run(ctx) {
      const e = echoOf(await ctx.http({ target: "/app/echo/caf%C3%A9?q=%E2%9C%93" }));
      assert.equal(new URL(e.url).pathname, "/app/echo/caf%C3%A9");
      assert.equal(new URL(e.url).search, "?q=%E2%9C%93");
      const raw = await ctx.http({ target: "/app/echo/na\u00efve?q=\u00fc" });
      if (ctx.traits.rawUtf8Target !== true) {
        assert.equal(raw.status, ctx.traits.rawUtf8Target);
      } else {
        const url = new URL(echoOf(raw).url);
        assert.equal(url.pathname, "/app/echo/na%C3%AFve");
        assert.equal(url.search, "?q=%C3%BC");
      }
      return ctx.outcome("rawUtf8Target");
    },
  },
  {
    name: "url-encoded-slash",
    title: "%2F in path and query stays encoded",
    async run(ctx) {
      const r = await ctx.http({ target: "/app/echo/a%2Fb/c?p=x%2Fy" });
      if (ctx.traits.encodedSlash !== true) assert.equal(r.status, ctx.traits.encodedSlash);
      else {
        const url = new URL(echoOf(r).url);
        assert.equal(url.pathname, "/app/echo/a%2Fb/c");
        assert.equal(url.search, "?p=x%2Fy");
      }
      return ctx.outcome("encodedSlash");
    },
  },
  {
    name: "path-confusion",
    title:
      "a backslash, a dot segment or a Host with a path never reach the app as another path than the one sent",
    // The app's own 400 for a dot segment or a bad Host is logged.
    allowLog: /rejected/,
    async run(ctx) {
      // What the app may see for each: the path sent (backslashes encoded),
      // or the path a server that resolved a dot segment itself matched.
      const probes: Array<{ req: HttpRequest; allowed: string[] }> = [
        // The URL parser alone would make this /app/echo/admin.
        {
          req: { target: "/app/echo/public\\..\\admin" },
          allowed: ["/app/echo/public%5C..%5Cadmin"],
        },
        { req: { target: "/app/echo/public/%2e%2e/admin" }, allowed: ["/app/echo/admin"] },
        { req: { target: "/app/echo/public/../admin" }, allowed: ["/app/echo/admin"] },
        {
          req: { target: "/app/echo/public", headers: [["Host", "127.0.0.1\\admin?"]] },
          allowed: ["/app/echo/public"],
        },
      ];
      for (const { req, allowed } of probes) {
        const r = await ctx.http(req);
        if (r.status !== 200) {
          // Refused by the server or by the app (400): the app saw nothing else.
          assert.ok(r.status >= 400 && r.status < 500, `${req.target}: status ${r.status}`);
          continue;
        }
        const seen = new URL(echoOf(r).url).pathname;
        assert.ok(allowed.includes(seen), `${req.target}: the app saw ${seen}`);
      }
      return ctx.outcome();
    },
  },
  {
    name: "headers-repeated",
    title: "repeated request headers and two Cookie headers are merged",
    async run(ctx) {
      const e = echoOf(
        await ctx.http({
          target: "/app/echo",
          headers: [["X-Dup", "a"], ["Cookie", "k1=v1"], ["X-Dup", "b"], ["Cookie", "k2=v2"], [
            "X-One",
            "1",
          ]],
        }),
      );
      assert.equal(header(e, "x-dup"), ctx.traits.dupHeader);
      assert.equal(header(e, "cookie"), ctx.traits.cookie);
      assert.equal(header(e, "x-one"), "1");
      return ctx.outcome("dupHeader", "cookie");
    },
  },
  {
    name: "request-headers-28k",
    title: "28 KB of request headers (4 x 7 KB) reach the handler intact",
    async run(ctx) {
      const values = [0, 1, 2, 3].map((i) => `${i}:`.padEnd(7000, String.fromCharCode(65 + i)));
      const r = await ctx.http({
        target: "/app/echo",
        headers: values.map((v, i) => [`X-Large-${i}`, v]),
      });
      if (ctx.traits.bigRequestHeaders !== true) {
        assert.equal(r.status, ctx.traits.bigRequestHeaders);
      } else {
        const e = echoOf(r);
        values.forEach((v, i) => assert.equal(header(e, `x-large-${i}`), v));
      }
      return ctx.outcome("bigRequestHeaders");
    },
  },
  {
    name: "expect-100-continue",
    title: "POST with Expect: 100-continue",
    async run(ctx) {
      const body = patternBytes(50_000);
      const e = echoOf(
        await ctx.http({
          method: "POST",
          target: "/app/echo",
          headers: [["Expect", "100-continue"]],
          body,
        }),
      );
      assert.deepEqual(e.body, { bytes: body.length, sha256: sha256(body) });
      return "pass";
    },
  },
  {
    name: "methods",
    title: "GET, POST (form) and PUT (binary) with bodies",
    async run(ctx) {
      const get = echoOf(await ctx.http({ target: "/app/echo" }));
      assert.equal(get.method, "GET");
      assert.equal(get.body, null);
      const form = new TextEncoder().encode("a=1&b=%C3%A9");
      const post = echoOf(
        await ctx.http({
          method: "POST",
          target: "/app/echo",
          headers: [["Content-Type", "application/x-www-form-urlencoded"]],
          body: form,
        }),
      );
      assert.equal(post.method, "POST");
      assert.deepEqual(post.body, { bytes: form.length, sha256: sha256(form) });
      assert.equal(header(post, "content-type"), "application/x-www-form-urlencoded");
      assert.equal(header(post, "content-length"), String(form.length));
      const binary = patternBytes(100_000);
      const put = echoOf(
        await ctx.http({
          method: "PUT",
          target: "/app/echo",
          headers: [["Content-Type", "application/octet-stream"]],
          body: binary,
        }),
      );
      assert.equal(put.method, "PUT");
      assert.deepEqual(put.body, { bytes: binary.length, sha256: sha256(binary) });
      return "pass";
    },
  },
  {
    name: "upload-chunked",
    title: "chunked upload (Transfer-Encoding: chunked, 300 KB in 16 KB pieces)",
    async run(ctx) {
      const total = 300_000;
      const r = await ctx.http({
        method: "POST",
        target: "/app/upload",
        headers: [["Content-Type", "application/octet-stream"]],
        // A server that refuses answers at the head and closes (HAProxy): body
        // bytes sent meanwhile draw a reset that can destroy its answer unread,
        // so there the body waits for the answer, as a careful client would.
        body: patternStream(total, 16384, ctx.traits.chunkedUpload === true ? 3 : 100),
      });
      if (ctx.traits.chunkedUpload !== true) {
        assert.equal(r.status, ctx.traits.chunkedUpload);
        return ctx.outcome("chunkedUpload");
      }
      const e = echoOf(r);
      assert.deepEqual(e.body, { bytes: total, sha256: patternSha256(total, 16384) });
      assert.equal(
        header(e, "content-length"),
        ctx.traits.chunkedUploadLength ? String(total) : null,
      );
      assert.equal(
        header(e, "transfer-encoding"),
        null,
        "hop-by-hop header leaked into the Request",
      );
      return ctx.outcome("chunkedUpload", "chunkedUploadLength");
    },
  },
  {
    name: "upload-streaming",
    title:
      "a slow upload (8 x 4 KB, 150 ms apart) reaches the handler while it is still being sent",
    async run(ctx) {
      const pieces = 8;
      let lastSentAt = 0;
      async function* slow(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < pieces; i++) {
          if (i > 0) await new Promise((resolve) => setTimeout(resolve, 150));
          if (i === pieces - 1) lastSentAt = Date.now();
          yield patternBytes(4096);
        }
      }
      const r = await ctx.http({
        method: "POST",
        target: "/app/uploadtiming",
        headers: [["Content-Type", "application/octet-stream"], [
          "Content-Length",
          String(pieces * 4096),
        ]],
        body: slow(),
      });
      assert.equal(r.status, 200);
      const t = r.json<{ first: number; end: number; bytes: number }>();
      assert.equal(t.bytes, pieces * 4096);
      const lead = lastSentAt - t.first;
      if (ctx.traits.streamsRequestBody) {
        assert.ok(
          lead > 500,
          `first bytes reached the handler only ${lead} ms before the upload ended`,
        );
      } else {
        assert.ok(
          lead <= 100,
          `the body streamed (first bytes ${lead} ms before the end) though buffering was expected`,
        );
      }
      return ctx.outcome("streamsRequestBody");
    },
  },
  {
    name: "upload-10mb",
    title: "10 MB upload with Content-Length, SHA-256 checked",
    timeout: 60000,
    async run(ctx) {
      uploadBody ??= patternBytes(TEN_MB);
      const e = echoOf(
        await ctx.http({
          method: "POST",
          target: "/app/upload",
          headers: [["Content-Type", "application/octet-stream"]],
          body: uploadBody,
          timeout: 55000,
        }),
      );
      assert.deepEqual(e.body, { bytes: TEN_MB, sha256: patternSha256(TEN_MB) });
      return "pass";
    },
  },
  {
    name: "download-50mb",
    title: "50 MB download generated on the fly, SHA-256 checked",
    timeout: 90000,
    async run(ctx) {
      const r = await ctx.http({
        target: `/app/download?bytes=${FIFTY_MB}`,
        collect: false,
        timeout: 85000,
      });
      assert.equal(r.status, 200);
      assert.equal(r.bytes, FIFTY_MB);
      assert.ok(r.complete, `incomplete body (${r.framing})`);
      assert.equal(r.sha256, patternSha256(FIFTY_MB));
      return "pass";
    },
  },
  {
    name: "sse",
    title: "server-sent events arrive as they are sent (5 events, 250 ms apart)",
    async run(ctx) {
      return await sseCase(ctx, false);
    },
  },
  {
    name: "sse-accel-no",
    title: "server-sent events with X-Accel-Buffering: no",
    async run(ctx) {
      return await sseCase(ctx, true);
    },
  },
  {
    name: "set-cookie",
    title: "three Set-Cookie headers stay three",
    async run(ctx) {
      const r = await ctx.http({ target: "/app/cookies" });
      assert.equal(r.status, 200);
      assert.deepEqual(r.getAll("set-cookie"), [
        "a=1; Path=/",
        "b=2; HttpOnly; Path=/",
        "c=3; Max-Age=60; SameSite=Lax",
      ]);
      return "pass";
    },
  },
  {
    name: "redirect",
    title: "Response.redirect(301) and a relative 307 keep status and Location",
    async run(ctx) {
      const r = await ctx.http({ target: "/app/redirect?status=301" });
      assert.equal(r.status, ctx.traits.redirectStatus === true ? 301 : ctx.traits.redirectStatus);
      assert.equal(r.get("location"), `http://${expectedHost(ctx)}/app/echo/target`);
      const rel = await ctx.http({ target: "/app/redirect?status=307&relative=1" });
      assert.equal(
        rel.status,
        ctx.traits.redirectStatus === true ? 307 : ctx.traits.redirectStatus,
      );
      assert.equal(rel.get("location"), "/app/echo/target");
      return ctx.outcome("redirectStatus", "hostPort");
    },
  },
  {
    name: "head",
    title: "HEAD: headers, no body (also on a kept-alive connection)",
    async run(ctx) {
      const r = await ctx.http({ method: "HEAD", target: "/app/text" });
      assert.equal(r.status, 200);
      assert.match(r.get("content-type") ?? "", /^text\/plain/);
      assert.equal(r.trailingBytes, 0, "a body followed the HEAD response");
      await noStray(
        ctx,
        { method: "HEAD", target: "/app/text" },
        (h) => assert.equal(h.status, 200),
      );
      return "pass";
    },
  },
  {
    name: "no-body-204-304",
    title: "204 and 304 carry no body",
    async run(ctx) {
      for (const code of [204, 304]) {
        const r = await ctx.http({ target: `/app/status?code=${code}` });
        assert.equal(r.status, code);
        assert.equal(r.get("x-status-case"), String(code));
        assert.equal(r.trailingBytes, 0, `a body followed the ${code} response`);
        if (code === 304) assert.equal(r.get("etag"), '"v1"');
        if (ctx.traits.bodylessChunked) await strayChunk(ctx, code);
        else {
          await noStray(
            ctx,
            { target: `/app/status?code=${code}` },
            (x) => assert.equal(x.status, code),
          );
        }
      }
      return ctx.outcome("bodylessChunked");
    },
  },
  {
    name: "header-block-5k",
    title: "a 5 KB response header block",
    async run(ctx) {
      const r = await ctx.http({ target: "/app/bigheaders?kb=5" });
      if (ctx.traits.bigHeaders !== true) assert.equal(r.status, ctx.traits.bigHeaders);
      else {
        assert.equal(r.status, 200);
        for (let i = 0; i < 5; i++) assert.equal(r.get(`x-big-${i}`), bigValue(i));
      }
      if (ctx.tap !== null) {
        const seen = ctx.tap.find("/app/bigheaders");
        assert.ok(seen.length > 0, "the tap saw no request");
        assert.equal(
          seen[seen.length - 1].headerInFirstStdout,
          true,
          "header block split over STDOUT records",
        );
      }
      return ctx.outcome("bigHeaders");
    },
  },
  {
    name: "handler-throws",
    title: "a handler that throws gives a 500 through the server",
    allowLog: /handler failed/,
    async run(ctx) {
      const r = await ctx.http({ target: "/app/throw" });
      assert.equal(r.status, 500);
      assert.match(r.text(), /Internal Server Error/);
      return "pass";
    },
  },
  {
    name: "keep-alive",
    title: "5 sequential requests: FastCGI connection reuse (FCGI_KEEP_CONN) seen by the wire tap",
    needs: "tap",
    async run(ctx) {
      const tap = ctx.tap!;
      const token = ctx.token("ka");
      const opened = tap.connections;
      const conn = await HttpConnection.open(ctx.port);
      try {
        for (let i = 0; i < 5; i++) {
          const r = await conn.request({ target: `/app/echo?ka=${token}&i=${i}` });
          assert.equal(r.status, 200);
        }
        assert.equal(conn.closed, false, "the server closed the client connection");
      } finally {
        conn.close();
      }
      const seen = tap.find(`ka=${token}`);
      assert.equal(seen.length, 5);
      const conns = new Set(seen.map((r) => r.conn));
      for (const r of seen) {
        assert.equal(r.keepConn, ctx.traits.keepConn, "FCGI_KEEP_CONN flag");
        assert.equal(r.ended, true, "END_REQUEST");
        assert.equal(r.headerInFirstStdout, true, "whole header block in the first STDOUT record");
      }
      if (ctx.traits.keepConn && ctx.traits.stickyConn) {
        assert.equal(conns.size, 1, `connections used: ${[...conns]}`);
      } else if (ctx.traits.keepConn) {
        // Pooled: only the first request may need a new connection.
        const fresh = tap.connections - opened;
        assert.ok(fresh <= 1, `${fresh} new connections for 5 requests (used: ${[...conns]})`);
      } else assert.equal(conns.size, 5, `connections used: ${[...conns]}`);
      return ctx.outcome("keepConn", ...(ctx.traits.keepConn ? ["stickyConn" as const] : []));
    },
  },
  {
    name: "fd0-spawn",
    title: "the server spawns the app with its listening socket on fd 0",
    needs: "spawn",
    async run(ctx) {
      const r = await ctx.http({ target: "/app/whoami" });
      assert.equal(r.status, 200);
      const who = r.json<{ runtime: string; listen: string; addr: { transport: string } }>();
      assert.equal(who.runtime, runtimeName());
      assert.equal(who.listen, "inherited");
      assert.equal(who.addr.transport, "unix");
      return "pass";
    },
  },
  {
    name: "disconnect-abort",
    title: "client disconnect mid-response fires request.signal in the handler",
    async run(ctx) {
      const token = ctx.token("abort");
      const r = await ctx.http({
        target: `/app/endless?token=${token}&ms=20`,
        collect: false,
        destroyAfter: { bytes: 200, ms: 1500 },
      });
      assert.equal(r.status, 200);
      assert.equal(r.destroyed, true);
      const record = await ctx.waitAbort(token, ctx.traits.disconnectAborts ? 5000 : 2000);
      if (ctx.traits.disconnectAborts) {
        assert.ok(record?.signal, `request.signal did not fire (${JSON.stringify(record)})`);
      } else {
        assert.ok(
          !record?.signal,
          "request.signal fired although the server keeps the request going",
        );
      }
      return ctx.outcome("disconnectAborts");
    },
  },
  {
    name: "disconnect-download",
    title:
      "client disconnect during a 200 MB download (app waiting on backpressure) fires request.signal",
    timeout: 45000,
    async run(ctx) {
      const token = ctx.token("dl");
      const r = await ctx.http({
        target: `/app/download?bytes=${200 * 1024 * 1024}&token=${token}`,
        collect: false,
        destroyAfter: { bytes: 1024 * 1024, ms: 10000 },
        timeout: 30000,
      });
      assert.equal(r.status, 200);
      assert.equal(r.destroyed, true);
      const record = await ctx.waitAbort(token, ctx.traits.disconnectAborts ? 10000 : 2000);
      if (ctx.traits.disconnectAborts) {
        assert.ok(record?.signal, `request.signal did not fire (${JSON.stringify(record)})`);
      } else {
        assert.ok(
          !record?.signal,
          "request.signal fired although the server keeps the request going",
        );
      }
      return ctx.outcome("disconnectAborts");
    },
  },
  {
    name: "early-response",
    title: "the handler answers without reading a 10 MB upload; later requests still work",
    timeout: 60000,
    async run(ctx) {
      uploadBody ??= patternBytes(TEN_MB);
      const conn = await HttpConnection.open(ctx.port);
      try {
        const r = await conn.request({
          method: "POST",
          target: "/app/text",
          headers: [["Content-Type", "application/octet-stream"]],
          body: uploadBody,
          timeout: 55000,
        });
        assert.equal(r.status, 200);
        assert.equal(r.text(), "hello interop\n");
        assert.ok(r.complete);
      } finally {
        // Whether the server keeps this client connection (it has not read
        // the whole body) is its choice: nginx closes it, so no reuse here.
        conn.close();
      }
      // The FastCGI side stays usable: the next requests are served.
      for (let i = 0; i < 3; i++) {
        assert.equal((await ctx.http({ target: `/app/echo?after=${i}` })).status, 200);
      }
      return "pass";
    },
  },
  {
    name: "concurrency-100",
    title: "100 concurrent clients",
    timeout: 45000,
    async run(ctx) {
      const started = Date.now();
      const responses = await Promise.all(
        Array.from(
          { length: 100 },
          (_, i) => ctx.http({ target: `/app/sleep?ms=50&i=${i}`, timeout: 40000 }),
        ),
      );
      responses.forEach((r, i) => {
        assert.equal(r.status, 200, `client ${i}: ${r.status} ${r.text().slice(0, 200)}`);
        assert.equal(r.json<{ i: string }>().i, String(i));
      });
      assert.ok(Date.now() - started < 40000);
      return "pass";
    },
  },
  {
    name: "authorization",
    title: "the client's Authorization header reaches the handler",
    async run(ctx) {
      const e = echoOf(
        await ctx.http({
          target: "/app/echo",
          headers: [["Authorization", "Bearer interop-t0ken"]],
        }),
      );
      assert.equal(
        header(e, "authorization"),
        ctx.traits.authorization ? "Bearer interop-t0ken" : null,
      );
      return ctx.outcome("authorization");
    },
  },
  {
    name: "multiplexing",
    title:
      "40 concurrent clients: several requests in flight on one FastCGI connection, seen by the wire tap",
    needs: "tap",
    timeout: 45000,
    async run(ctx) {
      const tap = ctx.tap!;
      const token = ctx.token("mpx");
      const clients = 40;
      const responses = await Promise.all(
        Array.from(
          { length: clients },
          (_, i) => ctx.http({ target: `/app/sleep?ms=300&i=${i}&mpx=${token}`, timeout: 40000 }),
        ),
      );
      responses.forEach((r, i) => {
        assert.equal(r.status, 200, `client ${i}: ${r.status} ${r.text().slice(0, 200)}`);
        assert.equal(r.json<{ i: string }>().i, String(i));
      });
      const seen = tap.find(`mpx=${token}`);
      assert.equal(seen.length, clients, "requests seen by the tap");
      for (const r of seen) {
        assert.equal(r.ended, true, `END_REQUEST for id ${r.id} on connection ${r.conn}`);
        assert.equal(r.idInUse, false, `id ${r.id} began twice on connection ${r.conn}`);
        assert.equal(r.headerInFirstStdout, true, "whole header block in the first STDOUT record");
      }
      const most = seen.reduce((a, b) => (b.inFlight > a.inFlight ? b : a));
      const figures =
        `${new Set(seen.map((r) => r.conn)).size} connections, at most ${most.inFlight}` +
        ` in flight on one, ids ${[...new Set(seen.map((r) => r.id))].sort((a, b) => a - b)}`;
      if (ctx.traits.multiplexes) {
        assert.ok(most.inFlight > 1, `no request shared a connection: ${figures}`);
        assert.ok(tap.getValues > 0, "the server never sent FCGI_GET_VALUES");
        assert.ok(
          tap.getValuesResults.some((v) => v.FCGI_MPXS_CONNS?.[0] === "1"),
          `the app did not answer FCGI_MPXS_CONNS=1: ${JSON.stringify(tap.getValuesResults)}`,
        );
      } else {
        assert.equal(most.inFlight, 1, `requests shared a connection: ${figures}`);
      }
      return ctx.outcome("multiplexes");
    },
  },
  {
    name: "multiplex-unread-body",
    title:
      "a request leaving 512 KB of its body unread for 3 s does not hold up another on its FastCGI connection",
    needs: "tap",
    timeout: 30000,
    async run(ctx) {
      if (!ctx.traits.multiplexes) return ctx.outcome("multiplexes");
      const tap = ctx.tap!;
      // A few tries: the server picks the connection; only a shared one tells.
      for (let attempt = 0; attempt < 5; attempt++) {
        const token = ctx.token(`unread${attempt}`);
        const slow = ctx.http({
          method: "POST",
          target: `/app/sleep?ms=3000&i=slow&unread=${token}`,
          headers: [["Content-Type", "application/octet-stream"]],
          body: patternBytes(512 * 1024),
          timeout: 20000,
        });
        await sleep(500);
        const started = Date.now();
        const quick = await ctx.http({ target: `/app/sleep?ms=0&i=quick&unread=${token}` });
        const ms = Date.now() - started;
        assert.equal(quick.status, 200);
        assert.equal((await slow).status, 200);
        const [a, b] = [
          tap.find(`i=slow&unread=${token}`)[0],
          tap.find(`i=quick&unread=${token}`)[0],
        ];
        if (a === undefined || b === undefined || a.conn !== b.conn) continue;
        assert.ok(ms < 1500, `the quick request took ${ms} ms behind the unread body`);
        return ctx.outcome("multiplexes");
      }
      throw new Error("the two requests never shared a FastCGI connection in 5 tries");
    },
  },
  {
    name: "disconnect-abort-shared",
    title:
      "client disconnect while another request is in flight (on the same FastCGI connection where the server multiplexes) fires request.signal at once",
    timeout: 20000,
    async run(ctx) {
      // Long enough to outlast the 1.5 s wait where the abort is expected to come late.
      const busyMs = ctx.traits.disconnectAbortsShared ? 2000 : 4000;
      const busy = ctx.http({ target: `/app/sleep?ms=${busyMs}&i=busy`, timeout: 15000 });
      await sleep(150); // the busy request holds the connection first
      const token = ctx.token("abort-shared");
      const r = await ctx.http({
        target: `/app/endless?token=${token}&ms=20`,
        collect: false,
        destroyAfter: { bytes: 200, ms: 1500 },
      });
      assert.equal(r.status, 200);
      assert.equal(r.destroyed, true);
      const early = await ctx.waitAbort(token, 1500);
      if (!ctx.traits.disconnectAborts) {
        assert.ok(!early?.signal, "request.signal fired although the server keeps requests going");
      } else if (ctx.traits.disconnectAbortsShared) {
        assert.ok(early?.signal, `request.signal did not fire (${JSON.stringify(early)})`);
      } else {
        assert.ok(!early?.signal, "request.signal fired while the connection was still shared");
        const late = await ctx.waitAbort(token, busyMs + 3000);
        assert.ok(late?.signal, "request.signal never fired, not even once the busy request ended");
      }
      assert.equal((await busy).status, 200);
      return ctx.outcome(
        ctx.traits.disconnectAborts ? "disconnectAbortsShared" : "disconnectAborts",
      );
    },
  },
];

export { request };
