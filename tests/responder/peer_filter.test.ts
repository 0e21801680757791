// FCGI_WEB_SERVER_ADDRS / allowedAddresses: which TCP peers may connect.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { serveFastCGI } from "../../mod.ts";
import { allowListFromEnv, parseIp, peerFilter } from "../../src/responder/peer_filter.ts";
import { fetchRaw, GET, RawConn, requestBytes, type Target } from "../support/fcgi_client.ts";
import { start, tempDir } from "../support/server.ts";

const bytes = (text: string) => Array.from(parseIp(text) ?? []);

describe("parseIp", () => {
  it("IPv4", () => {
    assert.deepEqual(bytes("127.0.0.1"), [127, 0, 0, 1]);
    assert.deepEqual(bytes(" 10.1.2.3 "), [10, 1, 2, 3]);
    assert.deepEqual(bytes("255.255.255.255"), [255, 255, 255, 255]);
  });

  it("IPv6 full, compressed, bracketed, with a zone, with an embedded IPv4", () => {
    const one = [...new Array(15).fill(0), 1];
    assert.deepEqual(bytes("::1"), one);
    assert.deepEqual(bytes("0:0:0:0:0:0:0:1"), one);
    assert.deepEqual(bytes("0000:0000:0000:0000:0000:0000:0000:0001"), one);
    assert.deepEqual(bytes("[::1]"), one);
    assert.deepEqual(bytes("::"), new Array(16).fill(0));
    assert.deepEqual(bytes("2001:db8::8:800:200c:417a"), bytes("2001:DB8:0:0:8:800:200C:417A"));
    assert.deepEqual(bytes("fe80::1%eth0"), bytes("fe80::1"));
    assert.deepEqual(bytes("::ffff:127.0.0.1"), [...new Array(10).fill(0), 255, 255, 127, 0, 0, 1]);
    assert.deepEqual(bytes("::ffff:7f00:1"), bytes("::ffff:127.0.0.1"));
    assert.deepEqual(bytes("1::"), [0, 1, ...new Array(14).fill(0)]);
  });

  it("garbage is null", () => {
    for (
      const bad of [
        "",
        "localhost",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "1.2.3.-4",
        "1.2.3.4x",
        "0x7f.0.0.1",
        ":::",
        "1::2::3",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8::",
        "12345::1",
        "g::1",
        "::ffff:300.0.0.1",
        "[::1",
      ]
    ) {
      assert.equal(parseIp(bad), null, JSON.stringify(bad));
    }
  });
});

describe("peerFilter", () => {
  it("null/undefined: everyone", () => {
    assert.equal(peerFilter(null), null);
    assert.equal(peerFilter(undefined), null);
  });

  it("IPv6 spellings are one address; v4-mapped peers match their IPv4 entry and back", () => {
    const allow = peerFilter(["127.0.0.1", "0:0:0:0:0:0:0:1", "2001:db8::1"])!;
    assert.equal(allow("127.0.0.1"), true);
    assert.equal(allow("::ffff:127.0.0.1"), true);
    assert.equal(allow("::FFFF:7f00:0001"), true);
    assert.equal(allow("::1"), true);
    assert.equal(allow("2001:0db8:0000:0000:0000:0000:0000:0001"), true);
    assert.equal(allow("127.0.0.2"), false);
    assert.equal(allow("::2"), false);
    assert.equal(allow("::127.0.0.1"), false, "v4-compatible is not v4-mapped");
    assert.equal(allow(""), false);
    assert.equal(allow("garbage"), false);
    const mapped = peerFilter(["::ffff:10.0.0.1"])!;
    assert.equal(mapped("10.0.0.1"), true);
  });

  it("an empty list allows nobody; blank entries are skipped", () => {
    const none = peerFilter([])!;
    assert.equal(none("127.0.0.1"), false);
    const some = peerFilter(["", " 10.0.0.1 "])!;
    assert.equal(some("10.0.0.1"), true);
  });

  it("a garbage entry throws TypeError naming it", () => {
    assert.throws(() => peerFilter(["127.0.0.1", "localhost"]), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /localhost/);
      return true;
    });
    assert.throws(() => peerFilter(["10.0.0.256"]), TypeError);
    assert.throws(() => peerFilter(["10.0.0.0/8"]), TypeError);
  });

  it("serveFastCGI rejects a garbage allow-list synchronously", () => {
    assert.throws(
      () =>
        serveFastCGI({ port: 0, onListen() {}, allowedAddresses: ["nope"] }, () => new Response()),
      TypeError,
    );
  });

  it("allowListFromEnv splits on commas and trims", () => {
    assert.equal(allowListFromEnv(undefined), null);
    assert.equal(allowListFromEnv(""), null);
    assert.equal(allowListFromEnv("  "), null);
    assert.deepEqual(allowListFromEnv("127.0.0.1, ::1,,10.0.0.1 "), [
      "127.0.0.1",
      "::1",
      "10.0.0.1",
    ]);
  });
});

// --- end to end ----------------------------------------------------------------

const hello = () => new Response("hello");

function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host: "::1", port: 0 }, () => probe.close(() => resolve(true)));
  });
}

async function accepted(target: Target): Promise<void> {
  const r = await fetchRaw(target, { params: GET("/") });
  r.conn.close();
  assert.equal(r.cgi.status, 200);
  assert.equal(r.cgi.text, "hello");
}

/** The server closes the connection at once, sending nothing, even after a request. */
async function refused(target: Target): Promise<void> {
  const conn = await RawConn.connect(target);
  await conn.write(requestBytes({ params: GET("/") })).catch(() => {});
  const closed = await Promise.race([
    conn.closed.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000)),
  ]);
  conn.close();
  assert.equal(closed, true, "the server closed the connection");
  assert.equal(conn.chunks.length, 0, "not one byte was sent");
}

describe("allowedAddresses end to end", () => {
  it("['127.0.0.1'] accepts a 127.0.0.1 client", async () => {
    await using s = await start(hello, { allowedAddresses: ["127.0.0.1"] });
    await accepted(s.target);
  });

  it("['10.1.2.3'] closes a 127.0.0.1 client at once, the handler never runs", async () => {
    let calls = 0;
    await using s = await start(() => {
      calls++;
      return hello();
    }, { allowedAddresses: ["10.1.2.3"] });
    await refused(s.target);
    assert.equal(calls, 0);
  });

  it("a dual-stack server on '::' with ['127.0.0.1'] accepts a v4 client (::ffff:127.0.0.1)", async (t) => {
    if (!(await ipv6Loopback())) return t.skip("no IPv6 on this machine");
    await using s = await start(hello, {
      hostname: "::",
      port: 0,
      allowedAddresses: ["127.0.0.1"],
    });
    const port = (s.target as { port: number }).port;
    await accepted({ hostname: "127.0.0.1", port });
    await refused({ hostname: "::1", port });
  });

  it("a dual-stack server on '::' with ['10.1.2.3'] refuses the v4 client", async (t) => {
    if (!(await ipv6Loopback())) return t.skip("no IPv6 on this machine");
    await using s = await start(hello, { hostname: "::", port: 0, allowedAddresses: ["10.1.2.3"] });
    await refused({ hostname: "127.0.0.1", port: (s.target as { port: number }).port });
  });

  it("['::1'] and ['0:0:0:0:0:0:0:1'] accept an ::1 client", async (t) => {
    if (!(await ipv6Loopback())) return t.skip("no IPv6 on this machine");
    for (const entry of ["::1", "0:0:0:0:0:0:0:1"]) {
      await using s = await start(hello, { hostname: "::1", port: 0, allowedAddresses: [entry] });
      await accepted({ hostname: "::1", port: (s.target as { port: number }).port });
    }
  });

  it("refusals are logged once at once, then at most once per 10 s (a flood does not flood the log)", async () => {
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    try {
      await using s = await start(hello, { allowedAddresses: ["10.1.2.3"] });
      for (let i = 0; i < 5; i++) await refused(s.target);
    } finally {
      console.error = original;
    }
    const lines = logged.filter((line) => line.includes("FCGI_WEB_SERVER_ADDRS"));
    assert.deepEqual(lines, [
      "webfcgi: refused a connection from 127.0.0.1 (not in FCGI_WEB_SERVER_ADDRS)",
    ]);
  });

  it("Unix socket peers are not filtered", async () => {
    await using s = await start(hello, {
      path: path.join(tempDir(), "f.sock"),
      allowedAddresses: ["10.1.2.3"],
    });
    await accepted(s.target);
  });

  describe("FCGI_WEB_SERVER_ADDRS", () => {
    async function withEnv<T>(value: string, body: () => Promise<T>): Promise<T> {
      const saved = process.env.FCGI_WEB_SERVER_ADDRS;
      process.env.FCGI_WEB_SERVER_ADDRS = value;
      try {
        return await body();
      } finally {
        if (saved === undefined) delete process.env.FCGI_WEB_SERVER_ADDRS;
        else process.env.FCGI_WEB_SERVER_ADDRS = saved;
      }
    }

    it("is honoured when the option is absent", async () => {
      const refusing = await withEnv("10.1.2.3", () => start(hello));
      await refused(refusing.target);
      await refusing.server.shutdown();
      const allowing = await withEnv("10.1.2.3, 127.0.0.1", () => start(hello));
      await accepted(allowing.target);
      await allowing.server.shutdown();
    });

    it("an empty variable means no filter", async () => {
      await using s = await withEnv("", () => start(hello));
      await accepted(s.target);
    });

    it("the option wins over the variable (null = everyone)", async () => {
      await using a = await withEnv("10.1.2.3", () => start(hello, { allowedAddresses: null }));
      await accepted(a.target);
      await using b = await withEnv(
        "127.0.0.1",
        () => start(hello, { allowedAddresses: ["10.1.2.3"] }),
      );
      await refused(b.target);
    });

    it("garbage in the variable makes serveFastCGI throw TypeError", async () => {
      await withEnv("127.0.0.1,not-an-address", () => {
        assert.throws(() => serveFastCGI({ port: 0, onListen() {} }, hello), TypeError);
        return Promise.resolve();
      });
    });
  });
});
