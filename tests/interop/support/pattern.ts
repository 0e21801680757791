// Deterministic test bytes, generated on the fly on both ends, so that large
// uploads and downloads are checked by SHA-256 without storing them.
import { createHash } from "node:crypto";

export const BLOCK = 65536;

let base: Uint8Array | null = null;

function baseBlock(): Uint8Array {
  if (base !== null) return base;
  base = new Uint8Array(BLOCK);
  let x = 0x9e3779b9;
  for (let i = 0; i < BLOCK; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    base[i] = x & 0xff;
  }
  return base;
}

/** Block `index` of the pattern: the base block with the index stamped in front (so order matters). */
export function patternBlock(index: number, size = BLOCK): Uint8Array {
  const block = baseBlock().slice(0, size);
  const view = new DataView(block.buffer);
  if (size >= 4) view.setUint32(0, index);
  return block;
}

/** The pattern's first `total` bytes, block by block. */
export function* patternChunks(total: number, size = BLOCK): Generator<Uint8Array> {
  let index = 0;
  for (let at = 0; at < total; at += size) yield patternBlock(index++, Math.min(size, total - at));
}

/** The pattern as an async iterable, with an optional pause between pieces (chunked uploads). */
export async function* patternStream(
  total: number,
  size = BLOCK,
  pauseMs = 0,
): AsyncGenerator<Uint8Array> {
  for (const chunk of patternChunks(total, size)) {
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    yield chunk;
  }
}

/** The pattern's first `total` bytes as one array. */
export function patternBytes(total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of patternChunks(total)) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

const digests = new Map<string, string>();

/** SHA-256 (hex) of the pattern's first `total` bytes in blocks of `size`. */
export function patternSha256(total: number, size = BLOCK): string {
  const key = `${total}/${size}`;
  const known = digests.get(key);
  if (known !== undefined) return known;
  const hash = createHash("sha256");
  for (const chunk of patternChunks(total, size)) hash.update(chunk);
  const digest = hash.digest("hex");
  digests.set(key, digest);
  return digest;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
