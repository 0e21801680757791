import { FCGI_HEADER_LEN, FCGI_VERSION_1 } from "./constants.ts";
import { FastCGIProtocolError } from "./errors.ts";
import type { FastCGIRecord } from "./record.ts";

/** The content of every empty record. */
const EMPTY = new Uint8Array(0);

/**
 * Incremental record decoder: feed it socket chunks split anywhere, get
 * whole records back. Records inside one chunk are views into it (no copy);
 * a record split across chunks is assembled into its own buffer.
 *
 * After it throws, the stream cannot be trusted: discard the decoder.
 *
 * @example
 * ```ts
 * import { RecordDecoder } from "@webfcgi/webfcgi";
 * const decoder = new RecordDecoder();
 * const record = new Uint8Array([1, 6, 0, 1, 0, 2, 6, 0, 104, 105, 0, 0, 0, 0, 0, 0]);
 * decoder.push(record.subarray(0, 5), (r) => console.log(r));
 * decoder.push(record.subarray(5), (r) => console.log(r.type, r.content)); // 6 Uint8Array(2) [104, 105]
 * ```
 */
export class RecordDecoder {
  #pending: Uint8Array | null = null;
  #pendingLength = 0;
  #offset = 0;

  /** Bytes received so far that do not yet form a whole record. */
  get buffered(): number {
    return this.#pendingLength;
  }

  /**
   * Decodes `chunk`, calling `onRecord` for every record it completes, in order.
   *
   * @throws {FastCGIProtocolError} on a record whose version is not 1.
   */
  push(chunk: Uint8Array, onRecord: (record: FastCGIRecord) => void): void {
    let pos = 0;
    if (this.#pendingLength > 0) {
      pos = this.#fillPending(chunk, onRecord);
      if (pos < 0) return;
    }
    const end = chunk.length;
    while (end - pos >= FCGI_HEADER_LEN) {
      this.#checkVersion(chunk, pos);
      const contentLength = (chunk[pos + 4] << 8) | chunk[pos + 5];
      const total = FCGI_HEADER_LEN + contentLength + chunk[pos + 6];
      if (end - pos < total) break;
      const contentStart = pos + FCGI_HEADER_LEN;
      onRecord({
        type: chunk[pos + 1],
        requestId: (chunk[pos + 2] << 8) | chunk[pos + 3],
        // Empty records (ends of streams) share one empty array: a view costs.
        content: contentLength === 0
          ? EMPTY
          : chunk.subarray(contentStart, contentStart + contentLength),
      });
      this.#offset += total;
      pos += total;
    }
    if (pos < end) this.#keep(chunk, pos);
  }

  /** Completes the pending record from `chunk`; returns where the rest begins, or -1. */
  #fillPending(chunk: Uint8Array, onRecord: (record: FastCGIRecord) => void): number {
    let pending = this.#pending!;
    let pos = 0;
    if (this.#pendingLength < FCGI_HEADER_LEN) {
      const take = Math.min(FCGI_HEADER_LEN - this.#pendingLength, chunk.length);
      pending.set(chunk.subarray(0, take), this.#pendingLength);
      this.#pendingLength += take;
      pos = take;
      if (this.#pendingLength < FCGI_HEADER_LEN) return -1;
      this.#checkVersion(pending, 0);
      const total = FCGI_HEADER_LEN + ((pending[4] << 8) | pending[5]) + pending[6];
      const grown = new Uint8Array(total);
      grown.set(pending.subarray(0, FCGI_HEADER_LEN));
      this.#pending = pending = grown;
    }
    const total = pending.length;
    const take = Math.min(total - this.#pendingLength, chunk.length - pos);
    pending.set(chunk.subarray(pos, pos + take), this.#pendingLength);
    this.#pendingLength += take;
    pos += take;
    if (this.#pendingLength < total) return -1;
    const contentLength = (pending[4] << 8) | pending[5];
    this.#pending = null;
    this.#pendingLength = 0;
    this.#offset += total;
    onRecord({
      type: pending[1],
      requestId: (pending[2] << 8) | pending[3],
      content: pending.subarray(FCGI_HEADER_LEN, FCGI_HEADER_LEN + contentLength),
    });
    return pos;
  }

  #keep(chunk: Uint8Array, pos: number): void {
    const rest = chunk.length - pos;
    let size = FCGI_HEADER_LEN;
    if (rest >= FCGI_HEADER_LEN) {
      size += ((chunk[pos + 4] << 8) | chunk[pos + 5]) + chunk[pos + 6];
    }
    const pending = new Uint8Array(size);
    pending.set(chunk.subarray(pos));
    this.#pending = pending;
    this.#pendingLength = rest;
  }

  #checkVersion(bytes: Uint8Array, at: number): void {
    if (bytes[at] !== FCGI_VERSION_1) {
      throw new FastCGIProtocolError(`unsupported protocol version ${bytes[at]}`, {
        context: "record header",
        offset: this.#offset,
        recordType: bytes[at + 1],
      });
    }
  }
}
