// Seeded random inputs: the decoders may accept or reject them, but the only
// error they may ever throw is FastCGIProtocolError.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RecordDecoder } from "../../src/protocol/decoder.ts";
import { FastCGIProtocolError } from "../../src/protocol/errors.ts";
import { decodeBinaryPairs, decodePairs, encodePairs } from "../../src/protocol/pairs.ts";
import { encodeRecord, encodeStream } from "../../src/protocol/record.ts";
import { concat, splitBy, xorshift } from "./_helpers.ts";

const INPUTS = 2000;

/** Random bytes, biased towards small values so lengths are sometimes plausible. */
function randomBytes(random: (bound: number) => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = random(3) === 0 ? random(256) : random(4) === 0 ? 0x80 | random(2) : random(12);
  }
  return out;
}

/** A copy of `source` with a few bytes changed. */
function mutate(random: (bound: number) => number, source: Uint8Array): Uint8Array {
  const out = source.slice(0, random(source.length + 1));
  for (let n = 1 + random(4); n > 0 && out.length > 0; n--) out[random(out.length)] = random(256);
  return out;
}

/** Encoded random binary pairs (1- and 4-byte lengths), sometimes with one byte changed. */
function randomPairs(random: (bound: number) => number): Uint8Array {
  const pairs: Array<[Uint8Array, Uint8Array]> = [];
  for (let n = random(4); n > 0; n--) {
    pairs.push([randomBytes(random, random(140)), randomBytes(random, random(140))]);
  }
  const blob = encodePairs(pairs);
  if (blob.length > 0 && random(2) === 0) blob[random(blob.length)] = random(256);
  return blob;
}

/** A stream of random records: mostly version 1, small lengths, random padding. */
function randomRecords(random: (bound: number) => number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let n = random(6); n > 0; n--) {
    const length = random(40);
    const padding = random(20);
    const version = random(30) === 0 ? random(3) : 1;
    parts.push(
      new Uint8Array([version, random(256), random(3), random(256), 0, length, padding, 0]),
      randomBytes(random, length + padding),
    );
  }
  const stream = concat(...parts);
  // sometimes cut short or changed in one byte
  if (random(4) === 0) return stream.subarray(0, random(stream.length + 1));
  if (stream.length > 0 && random(4) === 0) stream[random(stream.length)] = random(256);
  return stream;
}

/** Runs `fn`; returns true if it threw a FastCGIProtocolError, fails on any other error. */
function acceptsOrRejects(fn: () => void, note: string): boolean {
  try {
    fn();
    return false;
  } catch (error) {
    if (!(error instanceof FastCGIProtocolError)) {
      assert.fail(`${note}: threw ${String(error)}, not a FastCGIProtocolError`);
    }
    return true;
  }
}

describe("fuzz (fixed seeds)", () => {
  it(`decodePairs and decodeBinaryPairs on ${INPUTS} random inputs`, () => {
    const random = xorshift(0xfc61);
    const valid = encodePairs([["A", "1"], ["N".repeat(130), "v"], ["B", "é".repeat(70)]]);
    let rejected = 0;
    for (let i = 0; i < INPUTS; i++) {
      const kind = i % 3;
      const input = kind === 0
        ? randomBytes(random, random(48))
        : kind === 1
        ? mutate(random, valid)
        : randomPairs(random);
      const note = `input ${i} [${input.join(",")}]`;
      const a = acceptsOrRejects(() => decodePairs(input), note);
      const b = acceptsOrRejects(() => decodeBinaryPairs(input), note);
      assert.equal(a, b, `${note}: both decoders agree`);
      if (a) rejected++;
    }
    // the inputs exercise both outcomes
    assert.ok(rejected > INPUTS / 10, `rejected ${rejected}`);
    assert.ok(rejected < INPUTS - INPUTS / 10, `accepted ${INPUTS - rejected}`);
  });

  it(`RecordDecoder.push on ${INPUTS} random streams in random chunks`, () => {
    const random = xorshift(0xdec0);
    const valid = concat(
      encodeRecord(1, 1, new Uint8Array([0, 1, 1, 0, 0, 0, 0, 0])),
      encodeStream(4, 1, encodePairs({ A: "B" }), true),
      encodeRecord(5, 1),
    );
    let rejected = 0;
    let records = 0;
    for (let i = 0; i < INPUTS; i++) {
      const kind = i % 3;
      const input = kind === 0
        ? randomBytes(random, random(80))
        : kind === 1
        ? mutate(random, valid)
        : randomRecords(random);
      const chunks = splitBy(input, () => 1 + random(24));
      const decoder = new RecordDecoder();
      const threw = acceptsOrRejects(() => {
        for (const chunk of chunks) decoder.push(chunk, () => records++);
      }, `input ${i} [${input.join(",")}]`);
      if (threw) rejected++;
    }
    assert.ok(rejected > INPUTS / 10, `rejected ${rejected}`);
    assert.ok(rejected < INPUTS - INPUTS / 10, `accepted ${INPUTS - rejected}`);
    assert.ok(records > INPUTS / 2, `records decoded ${records}`);
  });
});
