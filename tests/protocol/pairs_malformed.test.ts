import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeBinaryPairs,
  decodePairs,
  encodePairs,
  forEachPair,
} from "../../src/protocol/pairs.ts";
import { concat, throwsProtocolError } from "./_helpers.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

/** Asserts all three decoders reject `blob` with a name-value pair error at `offset`. */
function rejects(blob: Uint8Array, offset: number, message: RegExp): void {
  for (
    const decode of [decodePairs, decodeBinaryPairs, (b: Uint8Array) => forEachPair(b, () => {})]
  ) {
    const error = throwsProtocolError(() => decode(blob));
    assert.equal(error.where.context, "name-value pair");
    assert.equal(error.where.offset, offset);
    assert.match(error.message, message);
  }
}

describe("malformed name-value pairs", () => {
  it("a truncated 4-byte name length", () => {
    rejects(bytes(0x80), 0, /truncated name length/);
    rejects(bytes(0x80, 0, 0), 0, /truncated name length/);
    rejects(bytes(1, 1, 0x41, 0x42, 0x80, 0), 4, /truncated name length/);
  });

  it("a missing or truncated value length", () => {
    rejects(bytes(1), 0, /truncated value length/);
    rejects(bytes(0x80, 0, 0, 1), 0, /truncated value length/);
    rejects(bytes(1, 0x80), 0, /truncated value length/);
    rejects(bytes(1, 0x80, 0, 0), 0, /truncated value length/);
    rejects(bytes(0, 0, 0x80, 0, 0, 1, 0xff, 0xff), 2, /truncated value length/);
  });

  it("declared lengths past the end", () => {
    rejects(bytes(2, 1, 0x41, 0x42), 0, /declares 2\+1 bytes but only 2 remain/);
    rejects(bytes(1, 1, 0x41), 0, /declares 1\+1/);
    rejects(bytes(5, 0), 0, /declares 5\+0/);
    rejects(bytes(0, 5, 1, 2, 3, 4), 0, /declares 0\+5/);
    rejects(concat(bytes(1, 0x80, 0, 1, 0, 0x41), new Uint8Array(255)), 0, /declares 1\+256/);
    rejects(bytes(1, 1, 0x41, 0x42, 3, 3, 0x43), 4, /declares 3\+3/);
  });

  it("a huge declared length (0x7fffffff, from 0xffffffff) is an error, not an allocation", () => {
    rejects(bytes(0xff, 0xff, 0xff, 0xff, 0, 0x41), 0, /declares 2147483647\+0/);
    rejects(bytes(1, 0xff, 0xff, 0xff, 0xff, 0x41), 0, /declares 1\+2147483647/);
    rejects(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0, /2147483647\+2147483647/);
  });

  it("every truncation of a valid blob decodes to a prefix of its pairs or throws", () => {
    const pairs: Array<[string, string]> = [
      ["A", "1"],
      ["", ""],
      ["N".repeat(128), "short"],
      ["SHORT", "V".repeat(200)],
      ["ÜTF", "✓"],
      ["LAST", ""],
    ];
    const blob = encodePairs(pairs);
    // where each pair ends: lengths are 1 byte below 128, 4 bytes from 128
    const ends: number[] = [];
    let at = 0;
    for (const [name, value] of pairs) {
      const n = new TextEncoder().encode(name).length;
      const v = new TextEncoder().encode(value).length;
      at += (n < 128 ? 1 : 4) + (v < 128 ? 1 : 4) + n + v;
      ends.push(at);
    }
    assert.equal(at, blob.length);

    for (let length = 0; length <= blob.length; length++) {
      const prefix = blob.slice(0, length);
      const whole = length === 0 ? 0 : ends.indexOf(length) + 1;
      if (length === 0 || whole > 0) {
        assert.deepEqual(decodePairs(prefix), pairs.slice(0, whole), `prefix ${length}`);
        assert.equal(decodeBinaryPairs(prefix).length, whole, `prefix ${length}`);
      } else {
        throwsProtocolError(() => decodePairs(prefix), `prefix ${length}`);
        throwsProtocolError(() => decodeBinaryPairs(prefix), `prefix ${length}`);
      }
    }
  });
});
