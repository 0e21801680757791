// Typed errors: END_REQUEST refusals, connection failures, broken responses;
// and the response edge cases webfcgi's own server never produces.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import {
  FastCGICantMultiplexError,
  FastCGIClient,
  FastCGIClientError,
  FastCGIConnectionError,
  FastCGIOverloadedError,
  FastCGIResponseError,
  FastCGIUnknownRoleError,
  fetchFastCGI,
} from "../../client.ts";
import { ProtocolStatus } from "../../mod.ts";
import { start, tempDir } from "../support/server.ts";
import { deferred, enc, fakeServer, freePort, waitFor } from "./_helpers.ts";

describe("client errors", () => {
  it("FCGI_OVERLOADED becomes FastCGIOverloadedError", async () => {
    const gate = deferred();
    let inside = 0;
    await using started = await start(async () => {
      inside++;
      await gate.promise;
      return new Response("ok");
    }, { maxRequests: 1 });
    const port = (started.target as { port: number }).port;
    const first = new FastCGIClient({ port });
    // A second client that does not ask FCGI_MAX_REQS first, so it does not wait politely.
    const second = new FastCGIClient({ port }, { multiplex: false });
    try {
      const blocked = first.fetch("http://localhost/");
      await waitFor(() => inside === 1, 5000, "the first request is inside");
      const error = await second.fetch("http://localhost/").catch((e) => e);
      assert.ok(error instanceof FastCGIOverloadedError, String(error));
      assert.ok(error instanceof FastCGIClientError);
      assert.equal(error.address, `127.0.0.1:${port}`);
      gate.resolve();
      assert.equal(await (await blocked).text(), "ok");
      // The refused connection is still good for the next request.
      assert.equal(await (await second.fetch("http://localhost/")).text(), "ok");
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("FCGI_UNKNOWN_ROLE becomes FastCGIUnknownRoleError", async () => {
    await using started = await start(() => new Response("ok"));
    const client = new FastCGIClient({ port: (started.target as { port: number }).port });
    try {
      const error = await client.fetch("http://localhost/", { role: 9 }).catch((e) => e);
      assert.ok(error instanceof FastCGIUnknownRoleError, String(error));
      assert.equal(error.role, 9);
      assert.equal(await (await client.fetch("http://localhost/")).text(), "ok");
    } finally {
      await client.close();
    }
  });

  it("FCGI_CANT_MPX_CONN becomes FastCGICantMultiplexError, and the client stops multiplexing", async () => {
    const gate = deferred();
    let inside = 0;
    await using started = await start(async () => {
      inside++;
      await gate.promise;
      return new Response("ok");
    }, { multiplex: false });
    const client = new FastCGIClient({ port: (started.target as { port: number }).port }, {
      multiplex: true,
    });
    try {
      const first = client.fetch("http://localhost/1");
      await waitFor(() => inside === 1, 5000, "first inside");
      const error = await client.fetch("http://localhost/2").catch((e) => e);
      assert.ok(error instanceof FastCGICantMultiplexError, String(error));
      gate.resolve();
      assert.equal(await (await first).text(), "ok");
      const again = await Promise.all([
        client.fetch("http://localhost/3"),
        client.fetch("http://localhost/4"),
      ]);
      for (const response of again) assert.equal(await response.text(), "ok");
    } finally {
      await client.close();
    }
  });

  it("the authorizer role reaches the server", async () => {
    await using started = await start((_request, info) => new Response(info.role));
    const client = new FastCGIClient({ port: (started.target as { port: number }).port });
    try {
      assert.equal(
        await (await client.fetch("http://localhost/", { role: "authorizer" })).text(),
        "authorizer",
      );
      assert.equal(
        await (await client.fetch("http://localhost/", { role: "filter", data: "file" })).text(),
        "filter",
      );
    } finally {
      await client.close();
    }
  });

  it("nobody listening: FastCGIConnectionError with the system error as cause", async () => {
    const port = await freePort();
    const refused = await fetchFastCGI(`127.0.0.1:${port}`, "http://localhost/").catch((e) => e);
    assert.ok(refused instanceof FastCGIConnectionError, String(refused));
    assert.equal((refused.cause as { code?: string }).code, "ECONNREFUSED");
    const sock = path.join(tempDir(), "none.sock");
    const missing = await fetchFastCGI(`unix:${sock}`, "http://localhost/").catch((e) => e);
    assert.ok(missing instanceof FastCGIConnectionError, String(missing));
    assert.equal((missing.cause as { code?: string }).code, "ENOENT");
    assert.equal(missing.address, `unix:${sock}`);
    // A pooled client reports it for every queued request, and recovers later.
    const client = new FastCGIClient({ port });
    const all = await Promise.allSettled([
      client.fetch("http://localhost/"),
      client.fetch("http://localhost/"),
    ]);
    for (const result of all) {
      assert.equal(result.status, "rejected");
      assert.ok((result as PromiseRejectedResult).reason instanceof FastCGIConnectionError);
    }
    await client.close();
  });

  it("the connection drops before the head, or in the middle of the body", async () => {
    const fake = await fakeServer((request, reply) => {
      if (request.params.REQUEST_URI === "/before") return void reply.socket.destroy();
      reply.stdout("Content-Type: text/plain\r\n\r\npartial body");
      setTimeout(() => reply.socket.destroy(), 20);
    });
    try {
      const before = await fetchFastCGI({ port: fake.port }, "http://localhost/before").catch((e) =>
        e
      );
      assert.ok(before instanceof FastCGIConnectionError, String(before));
      const response = await fetchFastCGI({ port: fake.port }, "http://localhost/during");
      assert.equal(response.status, 200);
      const error = await response.text().catch((e) => e);
      assert.ok(error instanceof FastCGIConnectionError, String(error));
    } finally {
      await fake.close();
    }
  });

  it("responses that are not CGI: FastCGIResponseError", async () => {
    const fake = await fakeServer((request, reply) => {
      switch (request.params.REQUEST_URI) {
        case "/nothing":
          return reply.end();
        case "/half":
          reply.stdout("Content-Type: text/pl");
          return reply.end();
        case "/garbage":
          reply.stdout("this is not a header\r\n\r\n");
          return reply.end();
        case "/status":
          reply.stdout("Status: nope\r\n\r\n");
          return reply.end();
        case "/huge":
          reply.stdout("X-Big: " + "a".repeat(300000));
          return reply.end();
        case "/weird-status":
          reply.stdout("Status: 200 OK\r\n\r\n");
          return reply.end(7);
      }
    });
    try {
      for (const uri of ["/nothing", "/half", "/garbage", "/status", "/huge", "/weird-status"]) {
        const error = await fetchFastCGI({ port: fake.port }, `http://localhost${uri}`).then(
          (r) => r.text(),
        ).catch((e) => e);
        assert.ok(error instanceof FastCGIResponseError, `${uri}: ${error}`);
      }
    } finally {
      await fake.close();
    }
  });

  it("a head split across records and LF-only lines; Location rules", async () => {
    const fake = await fakeServer((request, reply) => {
      switch (request.params.REQUEST_URI) {
        case "/split":
          for (const piece of ["Stat", "us: 201 Cre", "ated\r", "\nX-A: 1\r\n\r", "\nbo", "dy"]) {
            reply.stdout(piece);
          }
          return reply.end();
        case "/lf":
          reply.stdout("Content-Type: text/plain\nX-B: 2\n\nbody\n");
          return reply.end();
        case "/local":
          reply.stdout("Location: /elsewhere?x=1\r\n\r\n");
          return reply.end();
        case "/absolute":
          reply.stdout("Location: https://example.com/\r\n\r\n");
          return reply.end();
      }
    });
    const client = new FastCGIClient({ port: fake.port });
    try {
      const split = await client.fetch("http://localhost/split");
      assert.deepEqual([
        split.status,
        split.statusText,
        split.headers.get("x-a"),
        await split.text(),
      ], [201, "Created", "1", "body"]);
      const lf = await client.fetch("http://localhost/lf");
      assert.deepEqual([lf.status, lf.headers.get("x-b"), await lf.text()], [200, "2", "body\n"]);
      const local = await client.fetch("http://localhost/local");
      assert.deepEqual([local.status, local.headers.get("location")], [200, "/elsewhere?x=1"]);
      const absolute = await client.fetch("http://localhost/absolute");
      assert.deepEqual([absolute.status, absolute.headers.get("location")], [
        302,
        "https://example.com/",
      ]);
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it("stderr: UTF-8 split across records is decoded whole; the default writes to stderr", async () => {
    const fake = await fakeServer((_request, reply) => {
      const text = enc.encode("PHP message: café ✓\n");
      reply.stderr(text.subarray(0, 17));
      reply.stderr(text.subarray(17));
      reply.stdout("Content-Type: text/plain\r\n\r\nok");
      reply.end();
    });
    try {
      const seen: string[] = [];
      const response = await fetchFastCGI({ port: fake.port }, "http://localhost/", {
        onStderr: (text, request) => {
          assert.equal(new URL(request.url).pathname, "/");
          seen.push(text);
        },
      });
      assert.equal(await response.text(), "ok");
      assert.equal(seen.join(""), "PHP message: café ✓\n");

      const log = console.error;
      const logged: unknown[] = [];
      console.error = (...args: unknown[]) => logged.push(args.join(" "));
      try {
        await (await fetchFastCGI({ port: fake.port }, "http://localhost/")).text();
      } finally {
        console.error = log;
      }
      assert.deepEqual(logged, ["PHP message: café ✓"]);
    } finally {
      await fake.close();
    }
  });

  it("ProtocolStatus values map one to one", () => {
    assert.deepEqual(
      [ProtocolStatus.CANT_MPX_CONN, ProtocolStatus.OVERLOADED, ProtocolStatus.UNKNOWN_ROLE],
      [1, 2, 3],
    );
  });
});
