// Test bytes that differ from chunk to chunk, made the same way by the test
// and by a server in a child process, so that either side can check them.

const MB = 1 << 20;

/** A long pseudo-random pattern; chunk k is a window into it. */
const PATTERN = (() => {
  const out = new Uint8Array(MB + 4096);
  let x = 12345;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
})();

/** Chunk `k` of `size` bytes (at most 1 MiB), a view into the pattern. */
export function chunk(k: number, size: number): Uint8Array {
  const at = (k * 977) % 4096;
  return PATTERN.subarray(at, at + size);
}
