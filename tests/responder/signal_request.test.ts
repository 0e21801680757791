// The Request a handler gets makes its signal on first use: it must still be
// a real Request, and its signal must fire whether it was read before or
// after the abort.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { abortRequest, SignalRequest } from "../../src/responder/signal_request.ts";
import { buildRequest } from "../../src/responder/request.ts";
import { FastCGIAbortError } from "../../mod.ts";
import { GET, RawConn, requestBytes, T } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";
import { deferred, within } from "../support/wait.ts";

const p = (o: Record<string, string>) =>
  Object.assign(Object.create(null), o) as Record<string, string>;

describe("SignalRequest", () => {
  it("is a real Request: method, url, headers and body work", async () => {
    const request = buildRequest(
      p({
        REQUEST_METHOD: "POST",
        REQUEST_URI: "/up?x=1",
        HTTP_HOST: "h.test",
        CONTENT_TYPE: "text/plain",
        HTTP_X_TRACE: "t1",
      }),
      new TextEncoder().encode("payload"),
    );
    assert.ok(request instanceof Request);
    assert.equal(request.method, "POST");
    assert.equal(request.url, "http://h.test/up?x=1");
    assert.equal(request.headers.get("content-type"), "text/plain");
    assert.equal(request.headers.get("x-trace"), "t1");
    assert.equal(await request.text(), "payload");
    assert.ok(request.signal instanceof AbortSignal);
    assert.equal(request.signal.aborted, false);
  });

  it("a GET gets headers and no body; HEAD too", () => {
    for (const method of ["GET", "HEAD"]) {
      const request = buildRequest(
        p({ REQUEST_METHOD: method, REQUEST_URI: "/", HTTP_HOST: "h", HTTP_ACCEPT: "*/*" }),
        new Uint8Array([1, 2]),
      );
      assert.equal(request.method, method);
      assert.equal(request.body, null);
      assert.equal(request.headers.get("accept"), "*/*");
      assert.equal(request.headers.get("host"), "h");
    }
  });

  it("a signal read before the abort fires, once, with the reason", () => {
    const request = new SignalRequest("http://h/");
    const signal = request.signal;
    assert.equal(request.signal, signal, "the same signal every time");
    let fired = 0;
    signal.addEventListener("abort", () => fired++);
    const reason = new FastCGIAbortError("gone");
    abortRequest(request, reason);
    abortRequest(request, new Error("later"));
    assert.equal(fired, 1);
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, reason);
  });

  it("a signal first read after the abort is already aborted, with the first reason", () => {
    const request = new SignalRequest("http://h/");
    const reason = new FastCGIAbortError("gone");
    abortRequest(request, reason);
    abortRequest(request, new Error("later"));
    assert.equal(request.signal.aborted, true);
    assert.equal(request.signal.reason, reason);
    assert.throws(() => request.signal.throwIfAborted(), (error) => error === reason);
  });

  it("a clone's signal follows the original, before and after the abort", () => {
    const early = new SignalRequest("http://h/");
    const copy = early.clone();
    assert.ok(copy instanceof Request);
    assert.equal(copy.signal.aborted, false);
    const reason = new FastCGIAbortError("gone");
    abortRequest(early, reason);
    assert.equal(copy.signal.aborted, true);
    assert.equal(copy.signal.reason, reason);

    const late = new SignalRequest("http://h/");
    abortRequest(late, reason);
    assert.equal(late.clone().signal.reason, reason);
  });

  it("a clone keeps the body readable on both sides", async () => {
    const request = new SignalRequest("http://h/", {
      method: "POST",
      body: new TextEncoder().encode("twice"),
    });
    const copy = request.clone();
    assert.equal(await copy.text(), "twice");
    assert.equal(await request.text(), "twice");
  });

  it("new Request(url, request) takes the signal through request.signal", () => {
    const request = new SignalRequest("http://h/");
    const forwarded = new Request("http://upstream/", request);
    const reason = new FastCGIAbortError("gone");
    abortRequest(request, reason);
    assert.equal(forwarded.signal.aborted, true);
  });

  it("abortRequest leaves other Requests alone", () => {
    const plain = new Request("http://h/");
    abortRequest(plain, new Error("x"));
    assert.equal(plain.signal.aborted, false);
  });
});

describe("request.signal through the server", () => {
  it("fires for a handler that first reads it after the connection closed", async () => {
    const seen = deferred<{ aborted: boolean; reason: unknown }>();
    const started = deferred();
    await using s = await start(async (request, info) => {
      started.resolve();
      // `completed` settles once the server has dropped the request: only
      // then is the signal read for the first time.
      await info.completed;
      seen.resolve({ aborted: request.signal.aborted, reason: request.signal.reason });
      return new Response("late");
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params: GET("/slow") }));
    await within(started.promise, 3000, "the handler started");
    conn.close();
    const { aborted, reason } = await within(seen.promise, 3000, "the handler looked");
    assert.equal(aborted, true);
    assert.ok(reason instanceof FastCGIAbortError);
  });

  it("fires on FCGI_ABORT_REQUEST for a handler that read it early", async () => {
    const fired = deferred<unknown>();
    await using s = await start((request) => {
      request.signal.addEventListener("abort", () => fired.resolve(request.signal.reason));
      return new Promise<Response>(() => {});
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params: GET("/wait"), keepConn: true }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const abort = new Uint8Array([1, T.ABORT, 0, 1, 0, 0, 0, 0]);
    await conn.write(abort);
    const reason = await within(fired.promise, 3000, "request.signal fired");
    assert.ok(reason instanceof FastCGIAbortError);
    const reply = await conn.reply(1);
    assert.equal(reply.appStatus, 1);
    conn.close();
  });
});
