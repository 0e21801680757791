// Every input the fuzzer ever failed on, replayed against its target. A
// fixture is written by `npm run fuzz` (or the fixed-seed passes) to
// tests/fuzz/regressions/ with the failure it showed; it must pass now.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../support/runtime.ts";
import { type Fixture, replay } from "./runner.ts";
import { SocketFuzzer } from "./targets.ts";

const dir = path.join(repoRoot, "tests", "fuzz", "regressions");
const files = fs.existsSync(dir)
  ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()
  : [];
const fixtures = files.map((file) => ({
  file,
  fixture: JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as Fixture,
}));

describe("fuzz regressions", () => {
  let fuzzer: SocketFuzzer | undefined;
  before(async () => {
    if (fixtures.some(({ fixture }) => fixture.target === "socket")) {
      fuzzer = await SocketFuzzer.start();
    }
  });
  after(async () => {
    await fuzzer?.stop();
  });

  it("the regressions folder holds fixtures", () => {
    assert.ok(fixtures.length > 0, `no fixtures in ${dir}`);
    for (const { file, fixture } of fixtures) {
      assert.ok(
        ["decoder", "pairs", "connection", "socket", "response"].includes(fixture.target),
        `${file}: target`,
      );
      assert.equal(typeof fixture.failure, "string", `${file}: the failure it showed`);
    }
  });

  for (const { file, fixture } of fixtures) {
    it(
      `${file}: ${fixture.kind} (was: ${fixture.failure.slice(0, 90)})`,
      { timeout: 20000 },
      async () => {
        const problem = await replay(fixture, fuzzer);
        assert.equal(problem, null, `${file} fails again: ${problem}`);
      },
    );
  }
});
