// Small shared helpers for the protocol tests. Not a test file itself.
import assert from "node:assert/strict";
import { FastCGIProtocolError } from "../../src/protocol/errors.ts";
import type { FastCGIRecord } from "../../src/protocol/record.ts";
import { RecordDecoder } from "../../src/protocol/decoder.ts";

/** A decoded record with its content copied out of the decoder's buffers. */
export interface CopiedRecord {
  type: number;
  requestId: number;
  content: Uint8Array;
}

/** Copies a record so that later pushes cannot change what it shows. */
export function copyRecord(record: FastCGIRecord): CopiedRecord {
  return { type: record.type, requestId: record.requestId, content: record.content.slice() };
}

/** Feeds `chunks` to a fresh decoder and returns every record, copied. */
export function decodeChunks(chunks: Iterable<Uint8Array>): CopiedRecord[] {
  const decoder = new RecordDecoder();
  const records: CopiedRecord[] = [];
  for (const chunk of chunks) decoder.push(chunk, (r) => records.push(copyRecord(r)));
  assert.equal(decoder.buffered, 0, "no bytes left over after the last chunk");
  return records;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** `length` bytes following a simple pattern (so misplaced bytes show up). */
export function pattern(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return out;
}

/** Asserts one record's type, id and content (compared byte for byte). */
export function assertRecord(actual: FastCGIRecord, expected: CopiedRecord, note = ""): void {
  assert.equal(actual.type, expected.type, `type ${note}`);
  assert.equal(actual.requestId, expected.requestId, `requestId ${note}`);
  // deepEqual on Uint8Arrays is a native compare on all three runtimes
  assert.deepEqual(actual.content, expected.content, `content ${note}`);
}

/** Asserts two record lists are equal, type, id and content byte for byte. */
export function assertRecords(actual: CopiedRecord[], expected: CopiedRecord[], note = ""): void {
  assert.equal(actual.length, expected.length, `record count ${note}`);
  for (let i = 0; i < expected.length; i++) {
    assertRecord(actual[i], expected[i], `of record ${i} ${note}`);
  }
}

/**
 * xorshift32: a tiny deterministic PRNG so random tests repeat exactly.
 * Returns a function giving integers in [0, bound).
 */
export function xorshift(seed: number): (bound: number) => number {
  let state = seed >>> 0 || 1;
  return (bound) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % bound;
  };
}

/** Splits `bytes` into consecutive chunks with sizes from `sizeOf`. */
export function splitBy(bytes: Uint8Array, sizeOf: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = Math.max(1, sizeOf());
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Runs `fn` and asserts it throws a FastCGIProtocolError; returns the error. */
export function throwsProtocolError(fn: () => unknown, message?: string): FastCGIProtocolError {
  try {
    fn();
  } catch (error) {
    assert.ok(
      error instanceof FastCGIProtocolError,
      `${message ?? "expected FastCGIProtocolError"}, got ${String(error)}`,
    );
    assert.equal(error.name, "FastCGIProtocolError");
    return error;
  }
  assert.fail(message ?? "expected a FastCGIProtocolError, nothing was thrown");
}
