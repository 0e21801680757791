import { FastCGIProtocolError } from "./errors.ts";
import { decodeText, encodeText } from "./text.ts";

/**
 * A name or value of a name-value pair: text (sent as UTF-8) or raw bytes.
 *
 * @example
 * ```ts
 * import type { PairPart } from "@webfcgi/webfcgi";
 * const part: PairPart = new Uint8Array([0xff, 0x00]);
 * ```
 */
export type PairPart = string | Uint8Array;

/** Largest length the 4-byte form can carry (31 bits). */
const MAX_PAIR_LENGTH = 0x7fffffff;

/**
 * Walks the name-value pairs of `bytes` (spec §3.4), calling `onPair` with
 * the byte ranges of each name and value.
 *
 * @throws {FastCGIProtocolError} on a truncated length or a pair that runs past the end.
 * @example
 * ```ts
 * import { forEachPair } from "@webfcgi/webfcgi";
 * forEachPair(new Uint8Array([1, 1, 65, 66]), (bytes, ns, ne, vs, ve) => console.log(ne - ns, ve - vs)); // 1 1
 * ```
 */
export function forEachPair(
  bytes: Uint8Array,
  onPair: (
    bytes: Uint8Array,
    nameStart: number,
    nameEnd: number,
    valueStart: number,
    valueEnd: number,
  ) => void,
): void {
  const end = bytes.length;
  let pos = 0;
  while (pos < end) {
    const pairStart = pos;
    let nameLength = bytes[pos];
    if (nameLength < 0x80) pos += 1;
    else {
      if (end - pos < 4) throw truncated("name length", pairStart);
      nameLength = readLong(bytes, pos);
      pos += 4;
    }
    if (pos >= end) throw truncated("value length", pairStart);
    let valueLength = bytes[pos];
    if (valueLength < 0x80) pos += 1;
    else {
      if (end - pos < 4) throw truncated("value length", pairStart);
      valueLength = readLong(bytes, pos);
      pos += 4;
    }
    const nameStart = pos;
    const valueStart = nameStart + nameLength;
    const valueEnd = valueStart + valueLength;
    if (valueEnd > end) {
      throw new FastCGIProtocolError(
        `name-value pair declares ${nameLength}+${valueLength} bytes but only ${
          end - nameStart
        } remain`,
        { context: "name-value pair", offset: pairStart },
      );
    }
    onPair(bytes, nameStart, valueStart, valueStart, valueEnd);
    pos = valueEnd;
  }
}

function readLong(bytes: Uint8Array, at: number): number {
  return ((bytes[at] & 0x7f) * 0x1000000) + (bytes[at + 1] << 16) +
    (bytes[at + 2] << 8) + bytes[at + 3];
}

function truncated(what: string, offset: number): FastCGIProtocolError {
  return new FastCGIProtocolError(`truncated ${what}`, {
    context: "name-value pair",
    offset,
  });
}

/**
 * Decodes name-value pairs to strings (UTF-8; invalid bytes become U+FFFD).
 * Repeated names are kept, in order.
 *
 * @throws {FastCGIProtocolError} on malformed input.
 * @example
 * ```ts
 * import { decodePairs, encodePairs } from "@webfcgi/webfcgi";
 * console.log(decodePairs(encodePairs([["SCRIPT_NAME", "/app"]]))); // [["SCRIPT_NAME", "/app"]]
 * ```
 */
export function decodePairs(bytes: Uint8Array): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  forEachPair(bytes, (b, ns, ne, vs, ve) => {
    pairs.push([decodeText(b, ns, ne), decodeText(b, vs, ve)]);
  });
  return pairs;
}

/**
 * Decodes name-value pairs to raw bytes, for binary names or values.
 *
 * @throws {FastCGIProtocolError} on malformed input.
 * @example
 * ```ts
 * import { decodeBinaryPairs } from "@webfcgi/webfcgi";
 * const [[name, value]] = decodeBinaryPairs(new Uint8Array([1, 1, 65, 0xff]));
 * console.log(name, value); // Uint8Array(1) [65] Uint8Array(1) [255]
 * ```
 */
export function decodeBinaryPairs(bytes: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  const pairs: Array<[Uint8Array, Uint8Array]> = [];
  forEachPair(bytes, (b, ns, ne, vs, ve) => {
    pairs.push([b.slice(ns, ne), b.slice(vs, ve)]);
  });
  return pairs;
}

/**
 * Encodes name-value pairs (spec §3.4): lengths up to 127 take one byte,
 * longer ones four. Strings are sent as UTF-8.
 *
 * @example
 * ```ts
 * import { encodePairs } from "@webfcgi/webfcgi";
 * console.log(encodePairs([["A", "B"]])); // Uint8Array(4) [1, 1, 65, 66]
 * ```
 */
export function encodePairs(
  pairs: Iterable<readonly [PairPart, PairPart]> | Record<string, PairPart>,
): Uint8Array {
  const list: Array<readonly [PairPart, PairPart]> = Symbol.iterator in pairs
    ? [...(pairs as Iterable<readonly [PairPart, PairPart]>)]
    : Object.entries(pairs as Record<string, PairPart>);
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const [name, value] of list) {
    const n = typeof name === "string" ? encodeText(name) : name;
    const v = typeof value === "string" ? encodeText(value) : value;
    if (n.length > MAX_PAIR_LENGTH || v.length > MAX_PAIR_LENGTH) {
      throw new RangeError("a name or value exceeds 2^31-1 bytes");
    }
    parts.push(n, v);
    size += lengthSize(n.length) + lengthSize(v.length) + n.length + v.length;
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < parts.length; i += 2) {
    at = writeLength(bytes, at, parts[i].length);
    at = writeLength(bytes, at, parts[i + 1].length);
    bytes.set(parts[i], at);
    at += parts[i].length;
    bytes.set(parts[i + 1], at);
    at += parts[i + 1].length;
  }
  return bytes;
}

function lengthSize(length: number): number {
  return length < 0x80 ? 1 : 4;
}

function writeLength(bytes: Uint8Array, at: number, length: number): number {
  if (length < 0x80) {
    bytes[at] = length;
    return at + 1;
  }
  bytes[at] = (length >>> 24) | 0x80;
  bytes[at + 1] = (length >>> 16) & 0xff;
  bytes[at + 2] = (length >>> 8) & 0xff;
  bytes[at + 3] = length & 0xff;
  return at + 4;
}
