// Outgoing records are small and short-lived: a header block, an 8-byte
// record header, END_REQUEST. Each `new Uint8Array` is a new ArrayBuffer
// (in Deno always, in Node above 64 bytes), which costs ten times a view
// and loads the GC. So record bytes are views into a shared slab, handed
// out in order and never reused: consecutive records of one response lie
// side by side, and the transport sends them as one view without copying.

/** Bytes per slab. */
const SLAB_SIZE = 65536;
/** Larger requests get a buffer of their own. */
const SLAB_MAX = 4096;

let slab = new Uint8Array(SLAB_SIZE);
let used = 0;

/**
 * `size` zeroed bytes to write records into, to be handed to a socket and
 * not kept: a view holds its whole slab alive.
 *
 * @example
 * ```ts ignore
 * const header = recordBytes(8); // zeros, ready for writeHeader()
 * ```
 */
export function recordBytes(size: number): Uint8Array {
  if (size > SLAB_MAX) return new Uint8Array(size);
  if (used + size > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const bytes = slab.subarray(used, used + size);
  used += size;
  return bytes;
}
