// The connection pool: keep-conn reuse, maxConnections and the queue, idle
// timeout, multiplexing over one connection, FCGI_MAX_REQS, close().
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FastCGIClient, FastCGIClientError } from "../../client.ts";
import type { FastCGIHandler } from "../../mod.ts";
import { start } from "../support/server.ts";
import { countingProxy, deferred, fakeServer, sleep, waitFor, within } from "./_helpers.ts";

/** A handler that holds every request until `release()`, counting them. */
function gated() {
  let gate = deferred();
  const state = {
    inside: 0,
    peak: 0,
    ids: [] as number[],
    release() {
      gate.resolve();
      gate = deferred();
    },
    handler: (async (request, info) => {
      state.inside++;
      state.peak = Math.max(state.peak, state.inside);
      state.ids.push(info.requestId);
      try {
        if (new URL(request.url).pathname !== "/fast") await gate.promise;
      } finally {
        state.inside--;
      }
      return new Response(`done ${info.requestId}`);
    }) as FastCGIHandler,
  };
  return state;
}

describe("client pool", () => {
  it("multiplexes concurrent requests over one connection when the server says FCGI_MPXS_CONNS=1", async () => {
    const app = gated();
    await using started = await start(app.handler);
    const proxy = await countingProxy(started.target);
    await using client = new FastCGIClient({ port: proxy.port });
    try {
      const responses = Array.from({ length: 20 }, (_, i) => client.fetch(`http://localhost/${i}`));
      await waitFor(() => app.inside === 20, 5000, "all 20 requests inside the handler at once");
      app.release();
      const bodies = await Promise.all(responses.map(async (r) => (await r).text()));
      assert.equal(bodies.length, 20);
      // One connection (the GET_VALUES probe's, kept) carried them all, each with its own id.
      assert.equal(proxy.connections, 1);
      assert.equal(new Set(app.ids).size, 20);
      assert.ok(Math.max(...app.ids) >= 20);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("without multiplexing: at most maxConnections at once, the rest wait in the queue", async () => {
    const app = gated();
    await using started = await start(app.handler, { multiplex: false });
    const proxy = await countingProxy(started.target);
    const client = new FastCGIClient({ port: proxy.port }, { maxConnections: 3 });
    try {
      const responses = Array.from({ length: 9 }, (_, i) => client.fetch(`http://localhost/${i}`));
      await waitFor(() => app.inside === 3, 5000, "three requests inside");
      await sleep(100);
      assert.equal(app.inside, 3);
      while (app.ids.length < 9 || app.inside > 0) {
        app.release();
        await sleep(10);
      }
      const bodies = await Promise.all(responses.map(async (r) => (await r).text()));
      assert.equal(bodies.length, 9);
      assert.equal(app.peak, 3);
      // Every request was id 1, as nginx sends them; one probe connection plus three.
      assert.deepEqual(new Set(app.ids), new Set([1]));
      assert.equal(proxy.connections, 4);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("keep-conn: sequential requests reuse one connection", async () => {
    await using started = await start(() => new Response("hi"));
    const proxy = await countingProxy(started.target);
    const client = new FastCGIClient({ port: proxy.port }, { multiplex: false });
    try {
      for (let i = 0; i < 10; i++) {
        assert.equal(await (await client.fetch("http://localhost/")).text(), "hi");
      }
      assert.equal(proxy.connections, 1);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("idle connections close after idleTimeout; the next request opens a new one", async () => {
    await using started = await start(() => new Response("hi"));
    const proxy = await countingProxy(started.target);
    const client = new FastCGIClient({ port: proxy.port }, { multiplex: false, idleTimeout: 100 });
    try {
      await (await client.fetch("http://localhost/")).text();
      assert.equal(proxy.open, 1);
      await waitFor(() => proxy.open === 0, 3000, "the idle connection closes");
      assert.equal(await (await client.fetch("http://localhost/")).text(), "hi");
      assert.equal(proxy.connections, 2);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("a kept connection the server closed is replaced", async () => {
    // The server drops idle connections after about a second.
    await using started = await start(() => new Response("hi"), { idleTimeout: 1 });
    const proxy = await countingProxy(started.target);
    const client = new FastCGIClient({ port: proxy.port }, {
      multiplex: false,
      idleTimeout: 60000,
    });
    try {
      await (await client.fetch("http://localhost/")).text();
      await waitFor(() => proxy.open === 0, 5000, "the server closes the idle connection");
      assert.equal(await (await client.fetch("http://localhost/")).text(), "hi");
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("a request on a kept connection found closed is sent again on a new one", async () => {
    // The fake server serves one request per connection, then drops it on the next BEGIN_REQUEST.
    const served = new WeakMap<object, number>();
    const fake = await fakeServer((_request, reply) => {
      reply.stdout("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok");
      reply.end();
    }, {
      onBegin(_id, socket) {
        const count = (served.get(socket) ?? 0) + 1;
        served.set(socket, count);
        if (count > 1) socket.destroy();
      },
    });
    const client = new FastCGIClient({ port: fake.port }, { multiplex: false, idleTimeout: 60000 });
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal(await (await client.fetch("http://localhost/")).text(), "ok");
      }
      assert.equal(fake.connections, 3);
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it("respects the server's FCGI_MAX_REQS on a multiplexed connection", async () => {
    const app = gated();
    await using started = await start(app.handler, { maxRequests: 2 });
    const client = new FastCGIClient({ port: (started.target as { port: number }).port });
    try {
      const responses = Array.from({ length: 6 }, (_, i) => client.fetch(`http://localhost/${i}`));
      await waitFor(() => app.inside === 2, 5000, "two inside");
      while (app.ids.length < 6 || app.inside > 0) {
        app.release();
        await sleep(10);
      }
      for (const response of responses) assert.equal((await response).status, 200);
      assert.equal(app.peak, 2);
    } finally {
      await client.close();
    }
  });

  it("close() lets requests in flight finish, then closes; later fetches reject", async () => {
    const app = gated();
    await using started = await start(app.handler);
    const proxy = await countingProxy(started.target);
    const client = new FastCGIClient({ port: proxy.port });
    try {
      const pending = client.fetch("http://localhost/slow");
      await waitFor(() => app.inside === 1, 5000, "the request is inside");
      let closed = false;
      const closing = client.close().then(() => (closed = true));
      await assert.rejects(client.fetch("http://localhost/fast"), FastCGIClientError);
      await sleep(50);
      assert.equal(closed, false);
      app.release();
      assert.equal(await (await pending).text(), "done 1");
      await within(closing, 5000, "close() resolves");
      await waitFor(() => proxy.open === 0, 5000, "the connection closes");
    } finally {
      await proxy.close();
    }
  });

  it("caps its connections at the server's FCGI_MAX_CONNS; await using closes the client", async () => {
    const gate = deferred();
    let inside = 0;
    const fake = await fakeServer(async (_request, reply) => {
      inside++;
      await gate.promise;
      reply.stdout("Content-Type: text/plain\r\n\r\nok");
      reply.end();
    }, { getValues: { FCGI_MPXS_CONNS: "0", FCGI_MAX_CONNS: "2" } });
    const proxy = await countingProxy({ port: fake.port });
    try {
      {
        await using client = new FastCGIClient({ port: proxy.port }, { maxConnections: 8 });
        const responses = Array.from({ length: 6 }, () => client.fetch("http://localhost/"));
        await waitFor(() => inside === 2, 5000, "two inside");
        await sleep(100);
        assert.equal(inside, 2);
        gate.resolve();
        for (const response of responses) assert.equal(await (await response).text(), "ok");
        // the probe, then two
        assert.equal(proxy.connections, 3);
      }
      await waitFor(() => proxy.open === 0, 5000, "await using closed every connection");
    } finally {
      await proxy.close();
      await fake.close();
    }
  });

  it("asks FCGI_GET_VALUES once per client, and not at all with multiplex: false", async () => {
    const fake = await fakeServer((_request, reply) => {
      reply.stdout("Content-Type: text/plain\r\n\r\nok");
      reply.end();
    }, { getValues: { FCGI_MPXS_CONNS: "0" } });
    const counting = await countingProxy({ port: fake.port });
    try {
      const auto = new FastCGIClient({ port: counting.port });
      for (let i = 0; i < 3; i++) await (await auto.fetch("http://localhost/")).text();
      await auto.close();
      // one probe connection, one for the requests
      assert.equal(counting.connections, 2);
      const never = new FastCGIClient({ port: counting.port }, { multiplex: false });
      for (let i = 0; i < 3; i++) await (await never.fetch("http://localhost/")).text();
      await never.close();
      assert.equal(counting.connections, 3);
    } finally {
      await counting.close();
      await fake.close();
    }
  });
});
