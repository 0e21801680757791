// One request whose handler leaves its body unread must not stop the other
// requests of a multiplexed connection for long; alone on its connection it
// waits (TCP backpressure) but still notices the web server leaving. And a
// body read still pending when the response is sent settles.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  begin,
  concat,
  GET,
  pairs,
  parseCgi,
  RawConn,
  rec,
  stream,
  T,
  type Target,
} from "../support/fcgi_client.ts";
import { sleep, start } from "../support/server.ts";

const KiB = 1024;
const POST = (uri: string, length: number) =>
  GET(uri, { REQUEST_METHOD: "POST", CONTENT_LENGTH: String(length) });

/** STDIN records for `size` bytes of body, without the empty end record. */
function body(id: number, size: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < size; at += 32 * KiB) {
    parts.push(rec(T.STDIN, id, new Uint8Array(Math.min(32 * KiB, size - at)).fill(at / KiB)));
  }
  return concat(parts);
}

const GET_MPXS = rec(T.GET_VALUES, 0, pairs([["FCGI_MPXS_CONNS", ""]]));

function head(id: number, params: Record<string, string>): Uint8Array {
  return concat([begin(id, 1, true), stream(T.PARAMS, id, pairs(params))]);
}

/** A handler: /stall never reads its body and records how it ended; others answer at once. */
function stallingApp() {
  const aborted: unknown[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    aborted,
    release,
    handler: async (request: Request) => {
      const path = new URL(request.url).pathname;
      if (path === "/stall") {
        request.signal.addEventListener("abort", () => aborted.push(request.signal.reason));
        await Promise.race([
          released,
          new Promise((resolve) => request.signal.addEventListener("abort", resolve)),
        ]);
        if (request.signal.aborted) return new Response("too late");
        return new Response(`read ${(await request.arrayBuffer()).byteLength}`);
      }
      return new Response(`quick ${path}`);
    },
  };
}

for (const unix of [false, true]) {
  const transport = unix ? "unix" : "tcp";
  describe(`fair multiplexing (${transport})`, () => {
    it(
      "a request that leaves 2 MiB unread is aborted alone after bodyStallTimeout; the next goes on",
      {
        timeout: 20000,
      },
      async () => {
        const app = stallingApp();
        await using s = await start(app.handler, {
          unix,
          maxUnreadBody: 256 * KiB,
          bodyStallTimeout: 1000,
        });
        const conn = await RawConn.connect(s.target);
        // As HAProxy with `option get-values`: it asks, then multiplexes.
        conn.socket.write(GET_MPXS);
        conn.socket.write(head(1, POST("/stall", 2048 * KiB)));
        conn.socket.write(body(1, 2048 * KiB));
        conn.socket.write(concat([rec(T.STDIN, 1), head(3, GET("/next")), rec(T.STDIN, 3)]));
        const next = await conn.reply(3, 15000);
        assert.equal(parseCgi(next.stdout).text, "quick /next");
        const stalled = await conn.reply(1, 5000);
        assert.equal(
          stalled.appStatus,
          1,
          "END_REQUEST for the stalled request, with an error status",
        );
        assert.equal(app.aborted.length, 1, "its signal fired");
        assert.equal((app.aborted[0] as Error).name, "AbortError");
        assert.match((app.aborted[0] as Error).message, /bodyStallTimeout/);
        // The connection is still good for more requests.
        conn.clear();
        conn.socket.write(concat([head(5, GET("/after")), rec(T.STDIN, 5)]));
        assert.equal(parseCgi((await conn.reply(5)).stdout).text, "quick /after");
        conn.close();
      },
    );

    it("under maxUnreadBody an unread body holds nothing up and is read whole later", {
      timeout: 20000,
    }, async () => {
      const app = stallingApp();
      await using s = await start(app.handler, { unix, bodyStallTimeout: 1000 });
      const conn = await RawConn.connect(s.target);
      // Two requests begun at once: multiplexed without asking.
      conn.socket.write(concat([head(1, POST("/stall", 512 * KiB)), begin(3, 1, true)]));
      conn.socket.write(body(1, 512 * KiB));
      conn.socket.write(
        concat([rec(T.STDIN, 1), stream(T.PARAMS, 3, pairs(GET("/next"))), rec(T.STDIN, 3)]),
      );
      const next = await conn.reply(3, 5000);
      assert.equal(parseCgi(next.stdout).text, "quick /next");
      await sleep(2500); // past bodyStallTimeout: not stalled, its body is all in
      assert.deepEqual(app.aborted, []);
      app.release();
      assert.equal(parseCgi((await conn.reply(1, 5000)).stdout).text, `read ${512 * KiB}`);
      conn.close();
    });

    it("alone on its connection a request may leave its body unread: backpressure, no abort", {
      timeout: 20000,
    }, async () => {
      const app = stallingApp();
      await using s = await start(app.handler, {
        unix,
        maxUnreadBody: 256 * KiB,
        bodyStallTimeout: 1000,
      });
      const conn = await RawConn.connect(s.target);
      conn.socket.write(head(1, POST("/stall", 4096 * KiB)));
      conn.socket.write(body(1, 4096 * KiB));
      conn.socket.write(rec(T.STDIN, 1));
      await sleep(3000);
      assert.deepEqual(app.aborted, [], "not aborted");
      assert.equal(conn.records.length, 0, "nothing sent yet");
      app.release();
      assert.equal(parseCgi((await conn.reply(1, 10000)).stdout).text, `read ${4096 * KiB}`);
      conn.close();
    });

    it("a paused connection still notices the web server leaving", { timeout: 20000 }, async () => {
      const app = stallingApp();
      await using s = await start(app.handler, { unix });
      const conn = await RawConn.connect(s.target);
      conn.socket.write(head(1, POST("/stall", 4096 * KiB)));
      // More than the 64 KiB at which reading pauses, less than maxUnreadBody.
      conn.socket.write(body(1, 768 * KiB));
      await sleep(300);
      conn.close();
      const deadline = Date.now() + 10000;
      while (app.aborted.length === 0 && Date.now() < deadline) await sleep(20);
      assert.equal(app.aborted.length, 1, "request.signal fired");
      assert.match((app.aborted[0] as Error).message, /closed/);
    });
  });
}

describe("a body read pending when the response is sent", () => {
  it("settles: it rejects instead of waiting for ever", { timeout: 10000 }, async () => {
    let read: Promise<unknown> | undefined;
    await using s = await start((request) => {
      read = request.text().then(() => "resolved", (error) => error);
      return new Response("early");
    });
    const conn = await RawConn.connect(s.target);
    // Part of the body; its end never comes.
    conn.socket.write(
      concat([head(1, POST("/early", 10000)), rec(T.STDIN, 1, new Uint8Array(100))]),
    );
    const reply = await conn.reply(1);
    assert.equal(parseCgi(reply.stdout).text, "early");
    const outcome = await Promise.race([read, sleep(3000).then(() => "still pending")]);
    assert.ok(outcome instanceof Error, String(outcome));
    assert.equal(outcome.name, "AbortError");
    conn.close();
  });
});

describe("a body that came whole before the response was sent", () => {
  it("stays readable to its end afterwards, nothing dropped", { timeout: 10000 }, async () => {
    let body: Promise<string> | undefined;
    let request!: Request;
    let sawEnd!: () => void;
    const ended = new Promise<void>((resolve) => (sawEnd = resolve));
    await using s = await start(async (r, info) => {
      request = r;
      await ended; // the rest of the body has come meanwhile
      info.completed.then(() => (body = request.text()));
      return new Response("early");
    });
    const conn = await RawConn.connect(s.target);
    conn.socket.write(
      concat([head(1, POST("/late", 8)), rec(T.STDIN, 1, new Uint8Array(4).fill(97))]),
    );
    await sleep(100);
    conn.socket.write(concat([rec(T.STDIN, 1, new Uint8Array(4).fill(98)), rec(T.STDIN, 1)]));
    await sleep(100);
    sawEnd();
    assert.equal(parseCgi((await conn.reply(1)).stdout).text, "early");
    for (let i = 0; i < 100 && body === undefined; i++) await sleep(10);
    assert.equal(await body, "aaaabbbb");
    conn.close();
  });
});

describe("an empty FCGI_DATA record in a Responder request", () => {
  it("is ignored (flup's client sends one): the request is answered, the connection kept", async () => {
    await using s = await start((request) => new Response(`ok ${new URL(request.url).pathname}`));
    const target: Target = s.target;
    const conn = await RawConn.connect(target);
    for (const path of ["/one", "/two"]) {
      conn.clear();
      conn.socket.write(concat([head(1, GET(path)), rec(T.STDIN, 1), rec(T.DATA, 1)]));
      assert.equal(parseCgi((await conn.reply(1)).stdout).text, `ok ${path}`);
    }
    assert.equal(conn.isClosed, false);
    conn.close();
  });
});
