import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseAddress, parseArgs, UsageError } from "../../src/cli/args.ts";

describe("cli arguments", () => {
  it("parses addresses: unix:, paths, host:port, [v6]:port, :port, fd:N", () => {
    assert.deepEqual(parseAddress("unix:/run/a.sock"), { path: "/run/a.sock" });
    assert.deepEqual(parseAddress("/run/a.sock"), { path: "/run/a.sock" });
    assert.deepEqual(parseAddress("127.0.0.1:9000"), { hostname: "127.0.0.1", port: 9000 });
    assert.deepEqual(parseAddress("[::1]:9001"), { hostname: "::1", port: 9001 });
    assert.deepEqual(parseAddress(":9002"), { hostname: "127.0.0.1", port: 9002 });
    assert.deepEqual(parseAddress("localhost:80"), { hostname: "localhost", port: 80 });
    assert.deepEqual(parseAddress("fd:0"), { fd: 0 });
  });
  it("rejects what is not an address with a UsageError", () => {
    for (const bad of ["nonsense", "host:99999", "fd:-1", "fd:x", "::1:80"]) {
      assert.throws(() => parseAddress(bad), UsageError, bad);
    }
  });
  it("parses flags with values, repeats, switches, = forms and --", () => {
    const { positionals, flags } = parseArgs(
      ["a", "-H", "X: 1", "--header=Y: 2", "-H", "Z: 3", "-i", "b", "--", "-not-a-flag"],
      ["-H", "--header"],
      ["-i"],
    );
    assert.deepEqual(positionals, ["a", "b", "-not-a-flag"]);
    assert.deepEqual(flags.get("-H"), ["X: 1", "Z: 3"]);
    assert.deepEqual(flags.get("--header"), ["Y: 2"]);
    assert.deepEqual(flags.get("-i"), [""]);
  });
  it("rejects unknown options and missing values", () => {
    assert.throws(() => parseArgs(["--nope"], [], []), /unknown option --nope/);
    assert.throws(() => parseArgs(["-X"], ["-X"], []), /-X needs a value/);
  });
});
