// Address forms the client and the CLI accept.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { describeAddress, parseAddress } from "../../src/client/address.ts";
import { FastCGIClient } from "../../client.ts";

describe("client addresses", () => {
  it("takes Unix socket paths in every form", () => {
    assert.deepEqual(parseAddress("/run/php/php8.2-fpm.sock"), {
      path: "/run/php/php8.2-fpm.sock",
    });
    assert.deepEqual(parseAddress("./app.sock"), { path: "./app.sock" });
    assert.deepEqual(parseAddress("app.sock"), { path: "app.sock" });
    assert.deepEqual(parseAddress("unix:/tmp/a:b.sock"), { path: "/tmp/a:b.sock" });
    assert.deepEqual(parseAddress({ path: "/tmp/x.sock" }), { path: "/tmp/x.sock" });
  });

  it("takes host:port, [v6]:port and { hostname, port }", () => {
    assert.deepEqual(parseAddress("127.0.0.1:9000"), { hostname: "127.0.0.1", port: 9000 });
    assert.deepEqual(parseAddress("localhost:9001"), { hostname: "localhost", port: 9001 });
    assert.deepEqual(parseAddress("[::1]:9000"), { hostname: "::1", port: 9000 });
    assert.deepEqual(parseAddress(":9000"), { hostname: "127.0.0.1", port: 9000 });
    assert.deepEqual(parseAddress({ hostname: "::1", port: 9 }), { hostname: "::1", port: 9 });
    assert.deepEqual(parseAddress({ hostname: "[::1]", port: 9 }), { hostname: "::1", port: 9 });
    assert.deepEqual(parseAddress({ port: 9000 }), { hostname: "127.0.0.1", port: 9000 });
  });

  it("rejects what is neither", () => {
    for (const bad of ["", "unix:", "host:99999", "host:0", "a:b:c", "::1:9000", "host:port"]) {
      assert.throws(() => parseAddress(bad), TypeError, bad);
    }
    assert.throws(() => parseAddress({ port: 70000 }), TypeError);
    assert.throws(() => parseAddress({ path: "" }), TypeError);
    assert.throws(() => parseAddress(null as unknown as string), TypeError);
    assert.throws(() => new FastCGIClient("nope:nope"), TypeError);
  });

  it("describes addresses the way the CLI writes them", () => {
    assert.equal(describeAddress({ path: "/x.sock" }), "unix:/x.sock");
    assert.equal(describeAddress({ hostname: "::1", port: 9000 }), "[::1]:9000");
    assert.equal(new FastCGIClient({ port: 9000 }).address, "127.0.0.1:9000");
  });
});
