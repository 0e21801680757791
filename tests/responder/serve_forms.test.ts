import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { serveFastCGI } from "../../mod.ts";
import type { Addr, FastCGIInfo } from "../../mod.ts";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { tempDir } from "../support/server.ts";

async function get(addr: Addr, uri = "/") {
  const target = addr.transport === "unix"
    ? { path: addr.path }
    : { port: addr.port, hostname: addr.hostname };
  const r = await fetchRaw(target, { params: GET(uri) });
  r.conn.close();
  return r.cgi;
}

describe("serveFastCGI call forms", () => {
  it("(options, handler) on TCP, with onListen and addr", async () => {
    let heard: Addr | undefined;
    const server = serveFastCGI(
      { hostname: "127.0.0.1", port: 0, onListen: (a) => (heard = a) },
      () => new Response("two"),
    );
    const addr = await server.listening;
    assert.deepEqual(heard, addr);
    assert.deepEqual(server.addr, addr);
    assert.equal(addr.transport, "tcp");
    assert.equal((await get(addr)).text, "two");
    await server.shutdown();
    await server.finished;
  });

  it("({ ...options, handler }) on a Unix socket", async () => {
    const socket = path.join(tempDir(), "s.sock");
    const server = serveFastCGI({
      path: socket,
      onListen() {},
      handler: () => new Response("one object"),
    });
    const addr = await server.listening;
    assert.deepEqual(addr, { transport: "unix", path: socket });
    assert.equal((await get(addr)).text, "one object");
    await server.shutdown();
  });

  it("({ fetch }) objects keep their this, as deno serve and Bun call them", async () => {
    const app = {
      greeting: "from fetch",
      fetch(this: { greeting: string }, _req: Request) {
        return new Response(this.greeting);
      },
    };
    const server = serveFastCGI({ hostname: "127.0.0.1", port: 0, onListen() {}, ...app });
    assert.equal((await get(await server.listening)).text, "from fetch");
    await server.shutdown();
  });

  it("(handler) alone listens on 127.0.0.1:9000 when no socket is inherited", async (t) => {
    const server = serveFastCGI(() => new Response("default"));
    let addr: Addr;
    try {
      addr = await server.listening;
    } catch (error) {
      // Port 9000 taken by something else on this machine: nothing to check.
      t.skip(`127.0.0.1:9000 unavailable: ${(error as Error).message}`);
      return;
    }
    assert.deepEqual(addr, { transport: "tcp", hostname: "127.0.0.1", port: 9000 });
    assert.equal((await get(addr)).text, "default");
    await server.shutdown();
  });

  it("gives the handler a Request and an info with every param", async () => {
    let seen: { info: FastCGIInfo; url: string; method: string } | undefined;
    const server = serveFastCGI(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request, info) => {
        seen = { info, url: request.url, method: request.method };
        return new Response("ok");
      },
    );
    const addr = await server.listening;
    await get(addr, "/p?q=1");
    assert.ok(seen);
    assert.equal(seen.url, "http://example.test/p?q=1");
    assert.equal(seen.method, "GET");
    assert.equal(seen.info.role, "responder");
    assert.equal(seen.info.requestId, 1);
    assert.equal(seen.info.params.QUERY_STRING, "q=1");
    assert.equal(seen.info.params.SERVER_PORT, "80");
    assert.equal(Object.getPrototypeOf(seen.info.params), null);
    assert.deepEqual(seen.info.remoteAddr, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port: 40000,
    });
    assert.equal(seen.info.data, null);
    await seen.info.completed;
    await server.shutdown();
  });

  it("rejects a missing handler with a TypeError", () => {
    assert.throws(() => serveFastCGI({ port: 0 } as never), TypeError);
  });

  it("reports a port in use on listening and finished", async () => {
    const first = serveFastCGI(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(),
    );
    const addr = await first.listening;
    const second = serveFastCGI({
      hostname: "127.0.0.1",
      port: (addr as { port: number }).port,
      onListen() {},
    }, () => new Response());
    await assert.rejects(second.listening, /cannot listen on 127\.0\.0\.1:\d+/);
    await assert.rejects(second.finished, /cannot listen/);
    await first.shutdown();
  });
});
