// Writes made in one turn leave in as few buffers as is cheap. Deno's and
// Bun's sockets send each buffer on its own (no writev), and a syscall costs
// more than copying a few KiB. The responder's records come from a slab in
// order, so small pieces usually lie side by side in one ArrayBuffer
// already: a view of the run is enough. Large pieces (response body bytes
// the handler gave) go out as they are, never copied.

/** A piece larger than this goes out on its own, as it is. */
export const LARGE_PIECE = 16384;
/** Small pieces are gathered into buffers of at most this many bytes. */
export const GATHER_LIMIT = 65536;

/**
 * The bytes of `pieces` (`size` in all) as one Uint8Array: a view when they
 * are consecutive ranges of one buffer, else a copy.
 *
 * @example
 * ```ts ignore
 * const slab = new Uint8Array(16);
 * join([slab.subarray(0, 8), slab.subarray(8, 16)], 16).buffer === slab.buffer; // true
 * ```
 */
export function join(pieces: readonly Uint8Array[], size: number): Uint8Array {
  const first = pieces[0];
  if (pieces.length === 1) return first;
  const buffer = first.buffer;
  let end = first.byteOffset + first.byteLength;
  let adjacent = true;
  for (let i = 1; i < pieces.length && adjacent; i++) {
    const piece = pieces[i];
    adjacent = piece.buffer === buffer && piece.byteOffset === end;
    end += piece.byteLength;
  }
  if (adjacent) return new Uint8Array(buffer, first.byteOffset, size);
  const joined = new Uint8Array(size);
  let at = 0;
  for (const piece of pieces) {
    joined.set(piece, at);
    at += piece.length;
  }
  return joined;
}

/**
 * `pieces` as the buffers to write, in order: runs of small pieces joined
 * (see {@link join}) into buffers of at most GATHER_LIMIT bytes, large
 * pieces on their own.
 *
 * @example
 * ```ts ignore
 * gather([header, body64k, padding]); // [header, body64k, padding]: nothing worth joining
 * gather([head, record, end]); // [one view or copy of the three]
 * ```
 */
export function gather(pieces: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runSize = 0;
  for (const piece of pieces) {
    if (piece.length > LARGE_PIECE || runSize + piece.length > GATHER_LIMIT) {
      if (run.length > 0) out.push(join(run, runSize));
      run = [];
      runSize = 0;
      if (piece.length > LARGE_PIECE) {
        out.push(piece);
        continue;
      }
    }
    run.push(piece);
    runSize += piece.length;
  }
  if (run.length > 0) out.push(join(run, runSize));
  return out;
}
