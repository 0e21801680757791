// Fault: the web server resets the connection (TCP RST) in the middle of a
// request body upload and in the middle of a streamed response. What the
// handler sees: request.signal aborts with an AbortError, a pending body
// read fails, the response stream is cancelled, info.completed settles.
// What the operator sees: nothing crashes, the server keeps serving, and
// shutdown() finds nothing left in flight.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import type { FastCGIHandler } from "../../mod.ts";
import { begin, concat, GET, pairs, rec, requestBytes, stream, T } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";
import { Prng } from "../fuzz/prng.ts";
import {
  assertServing,
  connectRaw,
  deferred,
  eventually,
  sleep,
  watchRejections,
  within,
} from "./_helpers.ts";

const rejections = watchRejections();
after(() => rejections.stop());

interface Seen {
  started: number;
  completed: number;
  aborted: number;
  reasons: unknown[];
  readErrors: unknown[];
  cancels: unknown[];
  pulls: number;
  bytesIn: number;
}

function observedServer(seen: Seen, onEvent: () => void = () => {}): FastCGIHandler {
  return async (request, info) => {
    const path = new URL(request.url).pathname;
    if (path === "/health") return new Response("healthy");
    seen.started++;
    info.completed.then(() => {
      seen.completed++;
      onEvent();
    });
    request.signal.addEventListener("abort", () => {
      seen.aborted++;
      seen.reasons.push(request.signal.reason);
      onEvent();
    });
    if (path === "/upload") {
      try {
        const reader = request.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          seen.bytesIn += value.length;
          onEvent();
        }
      } catch (error) {
        seen.readErrors.push(error);
        onEvent();
      }
      return new Response("upload done");
    }
    // /stream: an endless response, produced as fast as the socket takes it.
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          seen.pulls++;
          await sleep(1);
          controller.enqueue(new Uint8Array(16384).fill(0x61));
        },
        cancel(reason) {
          seen.cancels.push(reason);
          onEvent();
        },
      }),
    );
  };
}

function newSeen(): Seen {
  return {
    started: 0,
    completed: 0,
    aborted: 0,
    reasons: [],
    readErrors: [],
    cancels: [],
    pulls: 0,
    bytesIn: 0,
  };
}

function uploadStart(id = 1): Uint8Array {
  return concat([
    begin(id, 1, true),
    stream(
      T.PARAMS,
      id,
      pairs(GET("/upload", { REQUEST_METHOD: "POST", CONTENT_LENGTH: "10000000" })),
    ),
    rec(T.STDIN, id, new Uint8Array(30000).fill(0x62)),
  ]);
}

function reset(socket: Socket): void {
  socket.on("error", () => {});
  socket.resetAndDestroy();
}

describe("fault: the web server resets the connection", () => {
  it(
    "during the STDIN upload: the body read fails, request.signal aborts, the server keeps serving",
    {
      timeout: 20000,
    },
    async () => {
      const seen = newSeen();
      let wake = () => {};
      await using s = await start(observedServer(seen, () => wake()));
      const socket = await connectRaw(s.target);
      socket.on("error", () => {});
      socket.write(uploadStart());
      await within(
        new Promise<void>((resolve) => (wake = () => seen.bytesIn > 0 && resolve())),
        5000,
        "the handler reads the first bytes",
      );
      reset(socket);
      await eventually(
        () => seen.readErrors.length === 1 && seen.completed === 1,
        5000,
        "the handler's read fails and the request completes",
      );
      assert.equal(seen.aborted, 1, "request.signal aborted once");
      assert.ok(
        seen.reasons[0] instanceof Error && seen.reasons[0].name === "AbortError",
        `reason: ${String(seen.reasons[0])}`,
      );
      assert.ok(seen.readErrors[0] instanceof Error, "the pending body read rejected");
      assert.ok(seen.bytesIn >= 1 && seen.bytesIn <= 30000);
      await assertServing(s.target, "after the reset");
      assert.deepEqual(rejections.list, []);
      await within(s.server.shutdown(), 5000, "shutdown finds nothing in flight");
    },
  );

  it(
    "while the response streams: the body stream is cancelled, pull() stops, the server keeps serving",
    {
      timeout: 20000,
    },
    async () => {
      const seen = newSeen();
      await using s = await start(observedServer(seen));
      const socket = await connectRaw(s.target);
      socket.on("error", () => {});
      let received = 0;
      const enough = deferred();
      socket.on("data", (chunk: Uint8Array) => {
        received += chunk.length;
        if (received >= 200_000) enough.resolve();
      });
      socket.write(requestBytes({ id: 1, keepConn: true, params: GET("/stream") }));
      await within(enough.promise, 5000, "200 KB of the response arrive");
      reset(socket);
      await eventually(
        () => seen.cancels.length === 1 && seen.completed === 1,
        5000,
        "the body stream is cancelled",
      );
      assert.equal(seen.aborted, 1, "request.signal aborted");
      assert.ok(seen.reasons[0] instanceof Error && seen.reasons[0].name === "AbortError");
      const pulls = seen.pulls;
      await sleep(200);
      assert.ok(seen.pulls <= pulls + 1, `pull() stopped (${pulls} -> ${seen.pulls})`);
      await assertServing(s.target, "after the reset");
      assert.deepEqual(rejections.list, []);
      await within(s.server.shutdown(), 5000, "shutdown finds nothing in flight");
    },
  );

  it(
    "60 resets at seeded random moments (before, during and after the request, up- and downloads), 10 at a time",
    {
      timeout: 60000,
    },
    async () => {
      const seen = newSeen();
      await using s = await start(observedServer(seen));
      const r = new Prng(0xfa017);
      const plans = Array.from({ length: 60 }, () => ({
        upload: r.chance(0.5),
        cut: r.int(4), // 0: right after connecting, 1: mid-request, 2: after the request, 3: after some response
        delay: r.int(30),
      }));
      for (let i = 0; i < plans.length; i += 10) {
        await Promise.all(
          plans.slice(i, i + 10).map(async (plan) => {
            const socket = await connectRaw(s.target);
            socket.on("error", () => {});
            socket.on("data", () => {});
            const bytes = plan.upload
              ? uploadStart()
              : requestBytes({ id: 1, keepConn: true, params: GET("/stream") });
            if (plan.cut >= 1) {
              socket.write(
                plan.cut === 1
                  ? bytes.subarray(0, 1 + (plan.delay * 7) % (bytes.length - 1))
                  : bytes,
              );
            }
            await sleep(plan.cut === 3 ? 20 + plan.delay : plan.delay);
            reset(socket);
          }),
        );
      }
      await eventually(
        () => seen.completed === seen.started,
        10000,
        `every started request completes (${seen.completed}/${seen.started})`,
      );
      assert.ok(seen.started >= 20, `most plans reached the handler (${seen.started})`);
      assert.equal(seen.aborted, seen.started, "each one saw request.signal abort");
      await assertServing(s.target, "after 60 resets");
      assert.deepEqual(rejections.list, []);
      await within(s.server.shutdown(), 5000, "shutdown finds nothing in flight");
    },
  );
});
