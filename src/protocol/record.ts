import {
  FCGI_HEADER_LEN,
  FCGI_MAX_CONTENT_LENGTH,
  FCGI_MAX_WRITE_CONTENT,
  FCGI_VERSION_1,
} from "./constants.ts";
import { FastCGIProtocolError } from "./errors.ts";

/**
 * One decoded record: its type, request id and content (padding removed).
 *
 * @example
 * ```ts
 * import type { FastCGIRecord } from "@webfcgi/webfcgi";
 * const record: FastCGIRecord = { type: 6, requestId: 1, content: new Uint8Array() };
 * ```
 */
export interface FastCGIRecord {
  /** Record type, see {@linkcode RecordType}. */
  type: number;
  /** 0 for management records, else the request the record belongs to. */
  requestId: number;
  /** The content bytes. May be a view into a larger buffer: copy to keep. */
  content: Uint8Array;
}

/**
 * The fields of a record header.
 *
 * @example
 * ```ts
 * import { decodeHeader } from "@webfcgi/webfcgi";
 * const header = decodeHeader(new Uint8Array([1, 6, 0, 1, 0, 2, 6, 0]));
 * console.log(header.contentLength, header.paddingLength); // 2 6
 * ```
 */
export interface RecordHeader {
  /** Protocol version, always 1. */
  version: number;
  /** Record type. */
  type: number;
  /** Request id. */
  requestId: number;
  /** Content bytes that follow the header. */
  contentLength: number;
  /** Padding bytes that follow the content. */
  paddingLength: number;
}

/**
 * Padding that brings `contentLength` up to a multiple of 8.
 *
 * @example
 * ```ts
 * import { paddingFor } from "@webfcgi/webfcgi";
 * console.log(paddingFor(5), paddingFor(8)); // 3 0
 * ```
 */
export function paddingFor(contentLength: number): number {
  return (8 - (contentLength & 7)) & 7;
}

/**
 * Writes an 8-byte record header into `target` at `offset`.
 *
 * @example
 * ```ts
 * import { writeHeader } from "@webfcgi/webfcgi";
 * const bytes = new Uint8Array(8);
 * writeHeader(bytes, 0, 6, 1, 5, 3);
 * console.log(bytes); // Uint8Array(8) [1, 6, 0, 1, 0, 5, 3, 0]
 * ```
 */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  type: number,
  requestId: number,
  contentLength: number,
  paddingLength: number,
): void {
  target[offset] = FCGI_VERSION_1;
  target[offset + 1] = type;
  target[offset + 2] = requestId >>> 8;
  target[offset + 3] = requestId & 0xff;
  target[offset + 4] = contentLength >>> 8;
  target[offset + 5] = contentLength & 0xff;
  target[offset + 6] = paddingLength;
  target[offset + 7] = 0;
}

/**
 * Encodes a record header as 8 bytes.
 *
 * @example
 * ```ts
 * import { encodeHeader, RecordType } from "@webfcgi/webfcgi";
 * const bytes = encodeHeader({ type: RecordType.STDOUT, requestId: 1, contentLength: 2, paddingLength: 6 });
 * console.log(bytes.length); // 8
 * ```
 */
export function encodeHeader(
  header: Omit<RecordHeader, "version"> & { version?: number },
): Uint8Array {
  const { type, requestId, contentLength, paddingLength } = header;
  checkField("type", type, 0xff);
  checkField("requestId", requestId, 0xffff);
  checkField("contentLength", contentLength, FCGI_MAX_CONTENT_LENGTH);
  checkField("paddingLength", paddingLength, 0xff);
  if (header.version !== undefined) checkField("version", header.version, 0xff);
  const bytes = new Uint8Array(FCGI_HEADER_LEN);
  writeHeader(bytes, 0, type, requestId, contentLength, paddingLength);
  if (header.version !== undefined) bytes[0] = header.version;
  return bytes;
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${value}`);
  }
}

/**
 * Decodes the 8-byte record header at `offset`.
 *
 * @throws {FastCGIProtocolError} if fewer than 8 bytes remain or the version is not 1.
 * @example
 * ```ts
 * import { decodeHeader } from "@webfcgi/webfcgi";
 * console.log(decodeHeader(new Uint8Array([1, 3, 0, 1, 0, 8, 0, 0])).type); // 3
 * ```
 */
export function decodeHeader(bytes: Uint8Array, offset = 0): RecordHeader {
  if (bytes.length - offset < FCGI_HEADER_LEN) {
    throw new FastCGIProtocolError("truncated record header", {
      context: "record header",
      offset,
    });
  }
  const version = bytes[offset];
  if (version !== FCGI_VERSION_1) {
    throw new FastCGIProtocolError(`unsupported protocol version ${version}`, {
      context: "record header",
      offset,
    });
  }
  return {
    version,
    type: bytes[offset + 1],
    requestId: (bytes[offset + 2] << 8) | bytes[offset + 3],
    contentLength: (bytes[offset + 4] << 8) | bytes[offset + 5],
    paddingLength: bytes[offset + 6],
  };
}

/**
 * Encodes one record, padded to a multiple of 8 bytes.
 *
 * @throws {RangeError} if the content exceeds 65528 bytes (split with {@linkcode encodeStream}).
 * @throws {RangeError} if the type or request id does not fit its field.
 * @example
 * ```ts
 * import { encodeRecord, RecordType } from "@webfcgi/webfcgi";
 * const bytes = encodeRecord(RecordType.STDOUT, 1, new TextEncoder().encode("hi"));
 * console.log(bytes.length); // 16
 * ```
 */
export function encodeRecord(
  type: number,
  requestId: number,
  content: Uint8Array = EMPTY,
): Uint8Array {
  checkField("type", type, 0xff);
  checkField("requestId", requestId, 0xffff);
  if (content.length > FCGI_MAX_WRITE_CONTENT) {
    throw new RangeError(
      `record content of ${content.length} bytes exceeds ${FCGI_MAX_WRITE_CONTENT}`,
    );
  }
  const padding = paddingFor(content.length);
  const bytes = new Uint8Array(FCGI_HEADER_LEN + content.length + padding);
  writeHeader(bytes, 0, type, requestId, content.length, padding);
  bytes.set(content, FCGI_HEADER_LEN);
  return bytes;
}

/**
 * Encodes `content` as as many records of `type` as needed, each at most
 * 65528 content bytes and padded to 8. With `end`, the empty record that
 * closes a stream follows.
 *
 * @throws {RangeError} if the type or request id does not fit its field.
 * @example
 * ```ts
 * import { encodeStream, RecordType } from "@webfcgi/webfcgi";
 * const bytes = encodeStream(RecordType.STDOUT, 1, new Uint8Array(70000), true);
 * console.log(bytes.length); // 70024: two data records and the empty one
 * ```
 */
export function encodeStream(
  type: number,
  requestId: number,
  content: Uint8Array,
  end = false,
): Uint8Array {
  checkField("type", type, 0xff);
  checkField("requestId", requestId, 0xffff);
  const full = Math.floor(content.length / FCGI_MAX_WRITE_CONTENT);
  const rest = content.length - full * FCGI_MAX_WRITE_CONTENT;
  const restSize = rest === 0 ? 0 : FCGI_HEADER_LEN + rest + paddingFor(rest);
  const size = full * (FCGI_HEADER_LEN + FCGI_MAX_WRITE_CONTENT) + restSize +
    (end ? FCGI_HEADER_LEN : 0);
  const bytes = new Uint8Array(size);
  let out = 0;
  let at = 0;
  while (at < content.length) {
    const length = Math.min(FCGI_MAX_WRITE_CONTENT, content.length - at);
    const padding = paddingFor(length);
    writeHeader(bytes, out, type, requestId, length, padding);
    bytes.set(content.subarray(at, at + length), out + FCGI_HEADER_LEN);
    out += FCGI_HEADER_LEN + length + padding;
    at += length;
  }
  if (end) writeHeader(bytes, out, type, requestId, 0, 0);
  return bytes;
}

const EMPTY = new Uint8Array(0);
