import { FCGI_HEADER_LEN, FCGI_VERSION_1 } from "./constants.ts";
import { FastCGIProtocolError } from "./errors.ts";
import type { FastCGIRecord } from "./record.ts";

/** The content of every empty record. */
const EMPTY = new Uint8Array(0);

/**
 * Options of a {@linkcode RecordDecoder}.
 *
 * @example
 * ```ts
 * import { RecordDecoder, type RecordDecoderOptions } from "@webfcgi/webfcgi";
 * const options: RecordDecoderOptions = { pieces: true };
 * const decoder = new RecordDecoder(options);
 * // A STDIN record of 4 bytes ("body"), split after 10 of its 12 bytes:
 * const record = new Uint8Array([1, 5, 0, 1, 0, 4, 0, 0, 98, 111, 100, 121]);
 * decoder.push(record.subarray(0, 10), (r) => console.log(r.content)); // Uint8Array(2) [98, 111]
 * decoder.push(record.subarray(10), (r) => console.log(r.content)); // Uint8Array(2) [100, 121]
 * ```
 */
export interface RecordDecoderOptions {
  /**
   * Hand over the content of stream records (PARAMS, STDIN, STDOUT, STDERR,
   * DATA) of requests (not management records) in pieces as it arrives, as views into the chunks, instead of
   * assembling a record split across chunks into a buffer of its own. Each
   * piece is a non-empty record of the record's type and id; an empty record
   * still ends a stream. Default false: whole records only.
   */
  pieces?: boolean;
}

/** Stream record types: their content may be handed over in pieces. */
const STREAM_TYPES = new Uint8Array(256);
for (const type of [4, 5, 6, 7, 8]) STREAM_TYPES[type] = 1;

/**
 * Incremental record decoder: feed it socket chunks split anywhere, get
 * records back. Records inside one chunk are views into it (no copy); a
 * record split across chunks is assembled into its own buffer, or with
 * `pieces`, a stream record is handed over in pieces (views, no copy).
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
  #pieces: boolean;
  /** A record (or header) being assembled across chunks. */
  #pending: Uint8Array | null = null;
  #pendingLength = 0;
  /** A stream record handed over in pieces: its type, id, and what is left of it. */
  #streamType = 0;
  #streamId = 0;
  #contentLeft = 0;
  #paddingLeft = 0;
  #offset = 0;

  /** Creates a decoder; see {@linkcode RecordDecoderOptions}. */
  constructor(options?: RecordDecoderOptions) {
    this.#pieces = options?.pieces === true;
  }

  /** Bytes received so far and not yet handed over in a record. */
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
    if (this.#contentLeft > 0 || this.#paddingLeft > 0) {
      pos = this.#continueStream(chunk, onRecord);
      if (pos < 0) return;
    }
    if (this.#pendingLength > 0) {
      pos = this.#fillPending(chunk, pos, onRecord);
      if (pos < 0) return;
    }
    const end = chunk.length;
    while (end - pos >= FCGI_HEADER_LEN) {
      if (chunk[pos] !== FCGI_VERSION_1) throw this.#versionError(chunk, pos);
      const contentLength = (chunk[pos + 4] << 8) | chunk[pos + 5];
      const total = FCGI_HEADER_LEN + contentLength + chunk[pos + 6];
      const contentStart = pos + FCGI_HEADER_LEN;
      if (end - pos < total) {
        if (this.#inPieces(chunk, pos, contentLength)) {
          this.#startStream(chunk, pos);
          // The record goes on past this chunk, which it uses up.
          this.#continueStream(chunk.subarray(contentStart), onRecord);
          return;
        }
        break;
      }
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

  /** Whether the record whose header is at `at` goes out in pieces: request streams only. */
  #inPieces(header: Uint8Array, at: number, contentLength: number): boolean {
    return this.#pieces && contentLength > 0 && STREAM_TYPES[header[at + 1]] === 1 &&
      (header[at + 2] | header[at + 3]) !== 0;
  }

  /** Enters the record whose header is at `at`: its content follows in pieces. */
  #startStream(header: Uint8Array, at: number): void {
    this.#streamType = header[at + 1];
    this.#streamId = (header[at + 2] << 8) | header[at + 3];
    this.#contentLeft = (header[at + 4] << 8) | header[at + 5];
    this.#paddingLeft = header[at + 6];
    this.#offset += FCGI_HEADER_LEN;
  }

  /**
   * Hands over the next piece of the stream record in progress and skips its
   * padding; returns where the rest of `chunk` begins, or -1 when the record
   * goes on in the next chunk.
   */
  #continueStream(chunk: Uint8Array, onRecord: (record: FastCGIRecord) => void): number {
    let pos = 0;
    const left = this.#contentLeft;
    if (left > 0) {
      const take = Math.min(left, chunk.length);
      if (take === 0) return -1;
      this.#contentLeft = left - take;
      this.#offset += take;
      pos = take;
      onRecord({
        type: this.#streamType,
        requestId: this.#streamId,
        content: take === chunk.length ? chunk : chunk.subarray(0, take),
      });
      if (this.#contentLeft > 0) return -1;
    }
    const skip = Math.min(this.#paddingLeft, chunk.length - pos);
    this.#paddingLeft -= skip;
    this.#offset += skip;
    pos += skip;
    return this.#paddingLeft > 0 ? -1 : pos;
  }

  /**
   * Completes the pending record from `chunk` (from `pos`); returns where the
   * rest begins, or -1.
   */
  #fillPending(
    chunk: Uint8Array,
    pos: number,
    onRecord: (record: FastCGIRecord) => void,
  ): number {
    let pending = this.#pending!;
    if (this.#pendingLength < FCGI_HEADER_LEN) {
      const take = Math.min(FCGI_HEADER_LEN - this.#pendingLength, chunk.length - pos);
      pending.set(chunk.subarray(pos, pos + take), this.#pendingLength);
      this.#pendingLength += take;
      pos += take;
      if (this.#pendingLength < FCGI_HEADER_LEN) return -1;
      if (pending[0] !== FCGI_VERSION_1) throw this.#versionError(pending, 0);
      const contentLength = (pending[4] << 8) | pending[5];
      if (this.#inPieces(pending, 0, contentLength)) {
        // The header was split; the content goes out in pieces from here.
        this.#startStream(pending, 0);
        this.#pending = null;
        this.#pendingLength = 0;
        const used = this.#continueStream(chunk.subarray(pos), onRecord);
        return used < 0 ? -1 : pos + used;
      }
      const total = FCGI_HEADER_LEN + contentLength + pending[6];
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

  #versionError(bytes: Uint8Array, at: number): FastCGIProtocolError {
    return new FastCGIProtocolError(`unsupported protocol version ${bytes[at]}`, {
      context: "record header",
      offset: this.#offset,
      recordType: bytes[at + 1],
    });
  }
}
