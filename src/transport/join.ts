// Writes made in one turn leave as one buffer. The responder's records come
// from a slab in order, so the pieces of a small response usually lie side
// by side in one ArrayBuffer already: then a view of the run is enough.

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
