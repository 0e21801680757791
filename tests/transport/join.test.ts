// Pieces written in one turn leave as one buffer: a view when they lie side
// by side (records from the responder's slab), a copy otherwise.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "../../src/transport/join.ts";
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
