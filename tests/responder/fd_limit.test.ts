// The default maxConnections follows the file descriptor limit: read from
// /proc/self/limits on Linux, clamped to the limit minus a margin, and left
// alone when the user sets maxConnections. (The end-to-end check, a child
// under `ulimit -n 64`, is in tests/faults/emfile.test.ts.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import process from "node:process";
import { fdLimit, parseFdLimit } from "../../src/transport/fd_limit.ts";
import { defaultMaxConnections, DEFAULTS, resolveConfig } from "../../src/responder/config.ts";

const handler = () => new Response("ok");
const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe("fd limit", () => {
  it("parses the soft limit of Max open files", () => {
    assert.equal(parseFdLimit(LIMITS), 1024);
    assert.equal(parseFdLimit(LIMITS.replace("1024 ", "unlimited ")), Infinity);
    assert.equal(parseFdLimit("Max cpu time  unlimited  unlimited  seconds\n"), undefined);
    assert.equal(parseFdLimit("Max open files  lots  lots  files\n"), undefined);
    assert.equal(parseFdLimit("Max open files  0  0  files\n"), undefined);
  });

  it("reads this process's limit on Linux", {
    skip: process.platform === "linux" ? false : "Linux only (/proc/self/limits)",
  }, () => {
    let text: string;
    try {
      text = fs.readFileSync("/proc/self/limits", "utf8");
    } catch (error) {
      // Deno reads /proc only with --allow-all (npm run test:deno grants less): unknown, no prompt.
      assert.ok("Deno" in globalThis, `only Deno may refuse: ${error}`);
      assert.equal(fdLimit(), undefined);
      return;
    }
    const expected = parseFdLimit(text);
    assert.ok(expected !== undefined && expected > 0);
    assert.equal(fdLimit(), expected);
  });

  it("clamps the default to the limit minus 32 and an eighth, between 1 and 1000", () => {
    assert.equal(defaultMaxConnections(undefined), 1000);
    assert.equal(defaultMaxConnections(Infinity), 1000);
    assert.equal(defaultMaxConnections(20000), 1000);
    assert.equal(defaultMaxConnections(1024), 1024 - 32 - 128);
    assert.equal(defaultMaxConnections(256), 256 - 32 - 32);
    assert.equal(defaultMaxConnections(64), 24);
    assert.equal(defaultMaxConnections(16), 1);
    assert.equal(defaultMaxConnections(0), 1000, "a nonsense limit is ignored");
  });

  it("applies only when maxConnections is not set", () => {
    let reads = 0;
    const limit = () => {
      reads++;
      return 256;
    };
    assert.equal(resolveConfig({}, handler, limit).maxConnections, 192);
    assert.equal(reads, 1);
    assert.equal(resolveConfig({ maxConnections: 5000 }, handler, limit).maxConnections, 5000);
    assert.equal(resolveConfig({ maxConnections: 0 }, handler, limit).maxConnections, 0);
    assert.equal(reads, 1, "the limit is not read when the user chose");
    assert.equal(resolveConfig({}, handler).maxConnections, DEFAULTS.maxConnections);
    assert.equal(resolveConfig({}, handler, () => undefined).maxConnections, 1000);
  });
});
