import {
  FCGI_HEADER_LEN,
  FCGI_MAX_WRITE_CONTENT,
  ProtocolStatus,
  RecordType,
} from "../protocol/constants.ts";
import { paddingFor, writeHeader } from "../protocol/record.ts";
import { writeAscii } from "../protocol/text.ts";
import { recordBytes } from "./out_slab.ts";

/** Zero bytes to pad any record. */
export const PADDING: Uint8Array = new Uint8Array(8);

/**
 * One or more STDOUT (or STDERR) records carrying a latin1 string (a CGI
 * header block, whose characters are all bytes), in one buffer.
 */
export function textRecords(type: number, requestId: number, text: string): Uint8Array {
  let size = 0;
  for (let at = 0; at < text.length; at += FCGI_MAX_WRITE_CONTENT) {
    const length = Math.min(FCGI_MAX_WRITE_CONTENT, text.length - at);
    size += FCGI_HEADER_LEN + length + paddingFor(length);
  }
  const bytes = recordBytes(size);
  let out = 0;
  for (let at = 0; at < text.length; at += FCGI_MAX_WRITE_CONTENT) {
    const length = Math.min(FCGI_MAX_WRITE_CONTENT, text.length - at);
    const padding = paddingFor(length);
    writeHeader(bytes, out, type, requestId, length, padding);
    writeAscii(bytes, out + FCGI_HEADER_LEN, text.slice(at, at + length));
    out += FCGI_HEADER_LEN + length + padding;
  }
  return bytes;
}

/**
 * The CGI header block of a response as exactly one STDOUT record.
 *
 * HAProxy 2.6.12 (Debian 12) crashes on a header block that arrives in more
 * than one record (haproxy#2150), even when split on line boundaries, so a
 * block is never split: one that does not fit a record is an error, found
 * before anything is sent (the response becomes a 500). 64 KB is far above
 * what nginx (4-8 KB), Apache (8 KB a line) or HAProxy (16 KB) accept anyway.
 *
 * @throws {RangeError} when the block is longer than 65528 bytes
 */
export function headRecord(requestId: number, head: string): Uint8Array {
  if (head.length > FCGI_MAX_WRITE_CONTENT) {
    throw new RangeError(
      `response header block is ${head.length} bytes; it must fit one FastCGI record ` +
        `(${FCGI_MAX_WRITE_CONTENT} bytes)`,
    );
  }
  return textRecords(RecordType.STDOUT, requestId, head);
}

/** The END_REQUEST record, preceded by the empty STDOUT record when `closeStdout`. */
export function endRecords(
  requestId: number,
  appStatus: number,
  protocolStatus: number = ProtocolStatus.REQUEST_COMPLETE,
  closeStdout = true,
): Uint8Array {
  const start = closeStdout ? FCGI_HEADER_LEN : 0;
  const bytes = recordBytes(start + 16);
  if (closeStdout) writeHeader(bytes, 0, RecordType.STDOUT, requestId, 0, 0);
  writeHeader(bytes, start, RecordType.END_REQUEST, requestId, 8, 0);
  const body = start + FCGI_HEADER_LEN;
  bytes[body] = appStatus >>> 24;
  bytes[body + 1] = (appStatus >>> 16) & 0xff;
  bytes[body + 2] = (appStatus >>> 8) & 0xff;
  bytes[body + 3] = appStatus & 0xff;
  bytes[body + 4] = protocolStatus;
  return bytes;
}

/** A header for a data record of `length` bytes (at most 65528). */
export function dataHeader(type: number, requestId: number, length: number): Uint8Array {
  const header = recordBytes(FCGI_HEADER_LEN);
  writeHeader(header, 0, type, requestId, length, paddingFor(length));
  return header;
}

/** A whole data record holding a copy of `content` (at most 65528 bytes), padding included. */
export function dataRecord(type: number, requestId: number, content: Uint8Array): Uint8Array {
  const padding = paddingFor(content.length);
  const bytes = recordBytes(FCGI_HEADER_LEN + content.length + padding);
  writeHeader(bytes, 0, type, requestId, content.length, padding);
  bytes.set(content, FCGI_HEADER_LEN);
  return bytes;
}

/** The empty record that ends a stream. */
export function emptyRecord(type: number, requestId: number): Uint8Array {
  const bytes = recordBytes(FCGI_HEADER_LEN);
  writeHeader(bytes, 0, type, requestId, 0, 0);
  return bytes;
}

/**
 * One STDOUT record holding a CGI header block and the body bytes that
 * follow it (an Authorizer's answer: mod_authnz_fcgi keeps only the body
 * bytes of the record that ends the header block).
 * `head.length + body.length` must be at most 65528.
 */
export function headAndBodyRecord(requestId: number, head: string, body: Uint8Array): Uint8Array {
  const length = head.length + body.length;
  const padding = paddingFor(length);
  const bytes = recordBytes(FCGI_HEADER_LEN + length + padding);
  writeHeader(bytes, 0, RecordType.STDOUT, requestId, length, padding);
  bytes.set(body, writeAscii(bytes, FCGI_HEADER_LEN, head));
  return bytes;
}
