// Pieces written in one turn leave in as few buffers as is cheap: small
// pieces joined (a view when they lie side by side, as records from the
// responder's slab do, else a copy), large body pieces as they are.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { gather, GATHER_LIMIT, join, LARGE_PIECE } from "../../src/transport/join.ts";
import { recordBytes } from "../../src/responder/out_slab.ts";

describe("join", () => {
  it("consecutive views of one buffer become one view, without a copy", () => {
    const buffer = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const joined = join([buffer.subarray(2, 4), buffer.subarray(4, 5), buffer.subarray(5, 9)], 7);
    assert.equal(joined.buffer, buffer.buffer);
    assert.equal(joined.byteOffset, 2);
    assert.deepEqual([...joined], [2, 3, 4, 5, 6, 7, 8]);
  });

  it("a gap, a reordering or another buffer makes a copy with the bytes in order", () => {
    const buffer = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
    const other = new Uint8Array([9, 9]);
    const cases: Array<[Uint8Array[], number[]]> = [
      [[buffer.subarray(0, 2), buffer.subarray(3, 5)], [0, 1, 3, 4]],
      [[buffer.subarray(4, 6), buffer.subarray(0, 2)], [4, 5, 0, 1]],
      [[buffer.subarray(0, 2), other], [0, 1, 9, 9]],
    ];
    for (const [pieces, bytes] of cases) {
      const joined = join(pieces, bytes.length);
      assert.notEqual(joined.buffer, buffer.buffer);
      assert.deepEqual([...joined], bytes);
    }
  });

  it("a copy does not change when the pieces change afterwards", () => {
    const a = new Uint8Array([1, 2]);
    const b = new Uint8Array([3]);
    const joined = join([a, b], 3);
    a[0] = 9;
    assert.deepEqual([...joined], [1, 2, 3]);
  });
});

describe("gather", () => {
  it("a streamed response's small records from the slab: one view, no copy", () => {
    const slab = new Uint8Array(20000);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < 16544; at += 2064) pieces.push(slab.subarray(at, at + 2064));
    const buffers = gather(pieces);
    assert.equal(buffers.length, 1);
    assert.equal(buffers[0].buffer, slab.buffer);
    assert.equal(buffers[0].length, 2064 * pieces.length);
  });

  it("large pieces go out as they are, the small ones around them joined", () => {
    const head = new Uint8Array(100).fill(1);
    const header = new Uint8Array(8).fill(2);
    const body = new Uint8Array(LARGE_PIECE + 1).fill(3);
    const end = new Uint8Array(16).fill(4);
    const buffers = gather([head, header, body, header, body, end]);
    assert.equal(buffers.length, 5);
    assert.deepEqual(buffers.map((b) => b.length), [108, body.length, 8, body.length, 16]);
    assert.equal(buffers[1], body, "the body piece itself, not a copy");
    assert.deepEqual([...buffers[0]], [...head, ...header]);
  });

  it("small pieces are joined into buffers of at most GATHER_LIMIT bytes, in order", () => {
    const pieces = Array.from({ length: 40 }, (_, i) => new Uint8Array(4000).fill(i));
    const buffers = gather(pieces);
    assert.ok(buffers.every((b) => b.length <= GATHER_LIMIT));
    assert.equal(buffers.length, Math.ceil((40 * 4000) / (Math.floor(GATHER_LIMIT / 4000) * 4000)));
    const all = buffers.flatMap((b) => [...b]);
    assert.equal(all.length, 160000);
    for (let i = 0; i < 40; i++) assert.equal(all[i * 4000], i);
  });
});

describe("recordBytes (the responder's slab)", () => {
  it("hands out zeroed, consecutive, non-overlapping views", () => {
    const a = recordBytes(24);
    const b = recordBytes(8);
    assert.ok(a.every((x) => x === 0) && b.every((x) => x === 0));
    a.fill(1);
    assert.ok(b.every((x) => x === 0), "writing one view leaves the next alone");
    if (a.buffer === b.buffer) assert.equal(b.byteOffset, a.byteOffset + 24);
  });

  it("large requests get a buffer of their own, zeroed", () => {
    const big = recordBytes(70000);
    assert.equal(big.length, 70000);
    assert.equal(big.byteOffset, 0);
    assert.equal(big.buffer.byteLength, 70000);
    assert.ok(big.every((x) => x === 0));
  });

  it("never hands out the same bytes twice, across slabs", () => {
    const seen: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) {
      const bytes = recordBytes(1000);
      assert.ok(bytes.every((x) => x === 0), `view ${i} is fresh`);
      bytes.fill(7);
      seen.push(bytes);
    }
    assert.ok(seen.every((bytes) => bytes.every((x) => x === 7)));
  });
});
