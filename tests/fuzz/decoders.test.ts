// Fixed-seed fuzz pass over the wire decoders (a few seconds). The long run
// is `npm run fuzz`; a failure here prints the input as a fixture to put in
// tests/fuzz/regressions/.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  generateCase,
  generatePairs,
  GIANT_PAIR_LENGTHS,
  serialize,
  STATES,
  typeInState,
} from "./generate.ts";
import { Prng } from "./prng.ts";
import { type RunCounts, runFuzz, summary } from "./runner.ts";
import { RecordDecoder } from "../../src/protocol/decoder.ts";
import { checkDecoder, checkPairs } from "./targets.ts";

const SEED = 0x5eed0001;
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
  });
  const lines = summary(report);
  console.log(lines.map((l) => `# ${l}`).join("\n"));
  assert.equal(
    report.failures.length,
    0,
    `${lines.join("\n")}\n${report.failures.map((f) => JSON.stringify(f.fixture)).join("\n")}`,
  );
}

describe("fuzz: decoders (fixed seed)", () => {
  it("the generator is reproducible: the same seed gives the same inputs", () => {
    const a = new Prng(42);
    const b = new Prng(42);
    for (let i = 0; i < 50; i++) {
      const x = generateCase(a);
      const y = generateCase(b);
      assert.equal(x.kind, y.kind);
      assert.deepEqual(x.bytes, y.bytes);
      assert.deepEqual(x.splits, y.splits);
    }
  });

  it("RecordDecoder matches a reference parse on 6000 inputs split at random points", async () => {
    await pass({ decoder: 6000 });
  });

  it("decodePairs, decodeBinaryPairs and decodeParams on 6000 inputs", async () => {
    await pass({ pairs: 6000 });
  });

  it("4-byte pair lengths near 2^31 are rejected with FastCGIProtocolError, without allocating", () => {
    for (const giant of GIANT_PAIR_LENGTHS) {
      for (const asName of [true, false]) {
        const g = [
          (giant >>> 24) | 0x80,
          (giant >>> 16) & 0xff,
          (giant >>> 8) & 0xff,
          giant & 0xff,
        ];
        const bytes = new Uint8Array(asName ? [...g, 1, 65, 66] : [1, ...g, 65, 66]);
        assert.equal(checkPairs(bytes), null);
      }
    }
    const r = new Prng(SEED);
    for (let i = 0; i < 500; i++) {
      const p = generatePairs(r);
      assert.equal(checkPairs(p.bytes, p.valid), null);
    }
  });

  it("every record type (0-255) in every state decodes the same, whole or split byte by byte", () => {
    const r = new Prng(SEED);
    for (let type = 0; type < 256; type++) {
      for (const state of STATES) {
        const bytes = serialize(typeInState(r, type, state, type % 2 === 0));
        const every = bytes.length <= 2000
          ? Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)
          : [];
        assert.equal(checkDecoder({ bytes, splits: [] }), null);
        assert.equal(checkDecoder({ bytes, splits: every }), null);
      }
    }
  });

  it("the oracle is not blind: decoder bugs are reported", () => {
    const good = serialize([{ type: 6, id: 1, content: new Uint8Array([1, 2]), padding: 6 }]);
    const bad = serialize([{ type: 6, id: 1, content: new Uint8Array(0), padding: 0, version: 2 }]);
    const bytes = new Uint8Array([...good, ...bad]);
    assert.equal(checkDecoder({ bytes, splits: [3, 17] }), null, "the real decoder passes");
    // A decoder that swallows its version error...
    const lenient = () => {
      const inner = new RecordDecoder();
      return {
        get buffered() {
          return inner.buffered;
        },
        push(
          chunk: Uint8Array,
          onRecord: (r: { type: number; requestId: number; content: Uint8Array }) => void,
        ) {
          try {
            inner.push(chunk, onRecord);
          } catch {
            // accepted silently
          }
        },
      };
    };
    assert.match(String(checkDecoder({ bytes, splits: [] }, lenient)), /bad version/);
    // ...and one that throws something untyped.
    const untyped = () => ({
      buffered: 0,
      push() {
        throw new RangeError("offset out of bounds");
      },
    });
    assert.match(
      String(checkDecoder({ bytes: good, splits: [] }, untyped)),
      /not a FastCGIProtocolError/,
    );
    // ...and one that drops padding wrongly (records shift).
    const sloppy = () => {
      const inner = new RecordDecoder();
      let n = 0;
      return {
        get buffered() {
          return inner.buffered;
        },
        push(
          chunk: Uint8Array,
          onRecord: (r: { type: number; requestId: number; content: Uint8Array }) => void,
        ) {
          inner.push(
            chunk,
            (r) => onRecord(n++ === 0 ? { ...r, content: r.content.subarray(1) } : r),
          );
        },
      };
    };
    assert.match(String(checkDecoder({ bytes: good, splits: [] }, sloppy)), /differs/);
  });
});
