// Fixed-seed fuzz pass over the whole responder: in-process (Connection,
// Exchange and a handler over a fake socket) and over real Unix sockets to
// a server started once. The long run is `npm run fuzz`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serialize } from "./generate.ts";
import { type RunCounts, runFuzz, summary } from "./runner.ts";
import { checkOutput } from "./targets.ts";

const SEED = 0x5eed0002;
const NONE: RunCounts = {
  decoder: 0,
  pairs: 0,
  connection: 0,
  typeStateSweep: false,
  response: 0,
  socket: 0,
};

async function pass(counts: Partial<RunCounts>): Promise<void> {
  const report = await runFuzz({
    seed: SEED,
    counts: { ...NONE, ...counts },
    regressionsDir: null,
    socketConcurrency: 64,
    batch: 100,
  });
  const lines = summary(report);
  console.log(lines.map((l) => `# ${l}`).join("\n"));
  assert.equal(
    report.failures.length,
    0,
    `${lines.join("\n")}\n${report.failures.map((f) => JSON.stringify(f.fixture)).join("\n")}`,
  );
}

describe("fuzz: responder (fixed seed)", () => {
  it(
    "every record type (0-255) in every state (before BEGIN, during PARAMS, during STDIN, after END), with and without keep-conn",
    {
      timeout: 60000,
    },
    async () => {
      await pass({ typeStateSweep: true });
    },
  );

  it("1500 random, mutated and split inputs, in-process", { timeout: 60000 }, async () => {
    await pass({ connection: 1500 });
  });

  it("1500 handler responses: odd statuses, header names and values, body forms", {
    timeout: 60000,
  }, async () => {
    await pass({ response: 1500 });
  });

  it(
    "200 inputs over real Unix sockets, each on a fresh connection; a healthy 200 after every 100",
    {
      timeout: 90000,
    },
    async () => {
      await pass({ socket: 200 });
    },
  );

  it("the output oracle is not blind", () => {
    const facts = { begun: new Map([[1, 1]]), mayWait: false };
    const stdout = (text: string) => ({
      type: 6,
      id: 1,
      content: new TextEncoder().encode(text),
      padding: (8 - (text.length % 8)) % 8,
    });
    const end = { type: 3, id: 1, content: new Uint8Array(8), padding: 0 };
    const ok = serialize([stdout("Status: 200 OK\r\nx-a: 1\r\n\r\nok"), stdout(""), end]);
    assert.equal(checkOutput(ok, facts, "eager", false), null);
    const injected = serialize([stdout("Status: 200 OK\r\nx-a: 1\nInjected: 2\r\n\r\nok"), end]);
    assert.match(String(checkOutput(injected, facts, "eager", false)), /malformed header line/);
    const twice = serialize([stdout("Status: 200 OK\r\n\r\nok"), end, end]);
    assert.match(String(checkOutput(twice, facts, "eager", false)), /after its END_REQUEST/);
    const stranger = serialize([{ ...end, id: 7 }]);
    assert.match(String(checkOutput(stranger, facts, "eager", false)), /never begun/);
    const status = serialize([stdout("Status: 1000 Nope\r\n\r\n"), end]);
    assert.match(
      String(checkOutput(status, facts, "eager", false)),
      /Status line|unexpected status/,
    );
    const cut = ok.subarray(0, ok.length - 3);
    assert.match(String(checkOutput(cut, facts, "eager", false)), /partial record/);
  });
});
