// Param names repeat from request to request (the same twenty CGI variables
// and a handful of headers). Handing back the string made last time saves
// building it, and a string that is already a property key is much cheaper
// to store in the params record than a fresh one.
import { decodeText } from "../protocol/text.ts";

/** Slots in the cache; a power of two. */
const SLOTS = 1024;
/** Slots tried for a name before one is overwritten. */
const PROBES = 4;
/** Longer names are decoded every time (header names are short). */
const MAX_CACHED = 64;

/**
 * A fixed-size cache from the bytes of a name to its string. Bounded, so a
 * peer sending endless new names only makes it miss.
 *
 * @example
 * ```ts ignore
 * const names = new NameCache();
 * const bytes = new TextEncoder().encode("HTTP_HOST");
 * names.get(bytes, 0, bytes.length, null); // "HTTP_HOST"
 * ```
 */
export class NameCache {
  #keys: Array<Uint8Array | undefined> = new Array(SLOTS);
  #names: string[] = new Array(SLOTS);

  /**
   * The string for the UTF-8 `bytes[start, end)`. `ascii`, when given, is
   * the whole of `bytes` as text, one char per byte: names too long to
   * cache are sliced from it.
   */
  get(bytes: Uint8Array, start: number, end: number, ascii: string | null): string {
    const length = end - start;
    if (length > MAX_CACHED) return decode(bytes, start, end, ascii);
    let hash = length;
    for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + bytes[i]) | 0;
    // A few probes: with one slot per name, two names of every request that
    // share a slot would evict each other on every request.
    const first = Math.imul(hash, 0x9e3779b1) >>> 22;
    let free = -1;
    for (let p = 0; p < PROBES; p++) {
      const slot = (first + p) & (SLOTS - 1);
      const key = this.#keys[slot];
      if (key === undefined) {
        free = slot;
        break;
      }
      if (key.length === length) {
        let i = 0;
        while (i < length && key[i] === bytes[start + i]) i++;
        if (i === length) return this.#names[slot];
      }
    }
    // Decoded on its own, not sliced from `ascii`: a slice could keep a whole
    // params block alive in the cache.
    const name = decodeText(bytes, start, end);
    const slot = free === -1 ? first : free;
    this.#keys[slot] = bytes.slice(start, end);
    this.#names[slot] = name;
    return name;
  }
}

function decode(bytes: Uint8Array, start: number, end: number, ascii: string | null): string {
  return ascii !== null ? ascii.slice(start, end) : decodeText(bytes, start, end);
}
