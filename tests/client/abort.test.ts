// Aborting: the request's signal or init.signal, before the head, mid-body,
// while queued; FCGI_ABORT_REQUEST when multiplexed, a closed connection
// otherwise; cancelling the body; backpressure both ways.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { FastCGIClient } from "../../client.ts";
import type { FastCGIHandler } from "../../mod.ts";
import { start } from "../support/server.ts";
import {
  countingProxy,
  deferred,
  pattern,
  patternStream,
  sha256,
  sleep,
  waitFor,
} from "./_helpers.ts";

const MB = 1024 * 1024;

function isAbortError(error: unknown): boolean {
  return (error as Error)?.name === "AbortError";
}

/** A handler that streams forever and records when its request is aborted. */
function endless() {
  const state = {
    started: 0,
    aborted: 0,
    handler: ((request) => {
      state.started++;
      request.signal.addEventListener("abort", () => state.aborted++);
      if (new URL(request.url).pathname === "/small") return new Response("small");
      let sent = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (request.signal.aborted) return controller.close();
            controller.enqueue(pattern(16384, sent));
            sent += 16384;
          },
        }),
      );
    }) as FastCGIHandler,
  };
  return state;
}

for (const multiplex of [true, false]) {
  const how = multiplex ? "multiplexed (FCGI_ABORT_REQUEST)" : "one request per connection (close)";
  describe(`abort, ${how}`, () => {
    it("mid-response: the body errors with AbortError and the handler sees the abort", async () => {
      const app = endless();
      await using started = await start(app.handler, { multiplex });
      const proxy = await countingProxy(started.target);
      const client = new FastCGIClient({ port: proxy.port }, { multiplex });
      try {
        const controller = new AbortController();
        const response = await client.fetch("http://localhost/stream", {
          signal: controller.signal,
        });
        const reader = response.body!.getReader();
        for (let i = 0; i < 3; i++) assert.equal((await reader.read()).done, false);
        controller.abort();
        await assert.rejects(
          (async () => {
            for (;;) if ((await reader.read()).done) return;
          })(),
          isAbortError,
        );
        await waitFor(() => app.aborted === 1, 5000, "the handler's request.signal aborts");
        // The client goes on working; multiplexed, still on its one connection.
        assert.equal(await (await client.fetch("http://localhost/small")).text(), "small");
        assert.equal(proxy.connections, multiplex ? 1 : 2);
      } finally {
        await client.close();
        await proxy.close();
      }
    });

    it("before the response head: fetch rejects with the signal's reason", async () => {
      const inside = deferred();
      let aborted = false;
      await using started = await start(async (request) => {
        request.signal.addEventListener("abort", () => (aborted = true));
        inside.resolve();
        await new Promise((resolve) => request.signal.addEventListener("abort", resolve));
        return new Response("late");
      }, { multiplex });
      const client = new FastCGIClient({ port: (started.target as { port: number }).port }, {
        multiplex,
      });
      try {
        const controller = new AbortController();
        const pending = client.fetch("http://localhost/", { signal: controller.signal });
        await inside.promise;
        const reason = new Error("changed my mind");
        controller.abort(reason);
        await assert.rejects(pending, (error) => error === reason);
        await waitFor(() => aborted, 5000, "the handler sees the abort");
      } finally {
        await client.close();
      }
    });

    it("the Request's own signal aborts too, and cancelling the body stops the server", async () => {
      const app = endless();
      await using started = await start(app.handler, { multiplex });
      const client = new FastCGIClient({ port: (started.target as { port: number }).port }, {
        multiplex,
      });
      try {
        const controller = new AbortController();
        const request = new Request("http://localhost/stream", { signal: controller.signal });
        const response = await client.fetch(request);
        const reader = response.body!.getReader();
        await reader.read();
        controller.abort();
        await assert.rejects(reader.read(), isAbortError);
        await waitFor(() => app.aborted === 1, 5000, "first abort seen");

        const second = await client.fetch("http://localhost/stream");
        const secondReader = second.body!.getReader();
        await secondReader.read();
        await secondReader.cancel();
        await waitFor(() => app.aborted === 2, 5000, "cancel seen as an abort");
      } finally {
        await client.close();
      }
    });
  });
}

describe("abort, other cases", () => {
  it("an already aborted signal rejects without connecting", async () => {
    const client = new FastCGIClient("127.0.0.1:1");
    await assert.rejects(
      client.fetch("http://localhost/", { signal: AbortSignal.abort() }),
      isAbortError,
    );
    await client.close();
  });

  it("a queued request aborts without taking a connection", async () => {
    const gate = deferred();
    let count = 0;
    await using started = await start(async () => {
      count++;
      await gate.promise;
      return new Response("ok");
    });
    const proxy = await countingProxy(started.target);
    const client = new FastCGIClient({ port: proxy.port }, { multiplex: false, maxConnections: 1 });
    try {
      const first = client.fetch("http://localhost/1");
      await waitFor(() => count === 1, 5000, "first inside");
      const controller = new AbortController();
      const second = client.fetch("http://localhost/2", { signal: controller.signal });
      controller.abort();
      await assert.rejects(second, isAbortError);
      gate.resolve();
      assert.equal(await (await first).text(), "ok");
      assert.equal(count, 1);
      assert.equal(proxy.connections, 1);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("a slow reader pauses the socket: the server does not run far ahead", async () => {
    let produced = 0;
    await using started = await start(() =>
      new Response(patternStream(256 * MB, 65536, (n) => (produced = n)))
    );
    const client = new FastCGIClient({ port: (started.target as { port: number }).port });
    try {
      const controller = new AbortController();
      const response = await client.fetch("http://localhost/", { signal: controller.signal });
      await sleep(300);
      const stalled = produced;
      await sleep(200);
      assert.ok(produced < 32 * MB, `the server produced ${produced} bytes while nobody read`);
      assert.ok(produced - stalled < 4 * MB, "production stalled");
      const reader = response.body!.getReader();
      let read = 0;
      while (read < 8 * MB) read += (await reader.read()).value!.length;
      controller.abort();
      await reader.cancel().catch(() => {});
    } finally {
      await client.close();
    }
  });

  it("a request body is pulled only as fast as the server reads it", async () => {
    let pulled = 0;
    const readNow = deferred();
    await using started = await start(async (request) => {
      await readNow.promise;
      const hash = createHash("sha256");
      for await (const chunk of request.body!) hash.update(chunk);
      return new Response(hash.digest("hex"));
    });
    const client = new FastCGIClient({ port: (started.target as { port: number }).port });
    try {
      const pending = client.fetch("http://localhost/", {
        method: "POST",
        body: patternStream(128 * MB, 65536, (n) => (pulled = n)),
      });
      await sleep(400);
      assert.ok(pulled < 32 * MB, `pulled ${pulled} bytes before the server read any`);
      readNow.resolve();
      assert.equal(await (await pending).text(), sha256(pattern(128 * MB)));
    } finally {
      await client.close();
    }
  });
});
