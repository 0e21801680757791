import {
  FCGI_HEADER_LEN,
  FCGI_MAX_WRITE_CONTENT,
  ProtocolStatus,
  RecordType,
} from "../protocol/constants.ts";
import { paddingFor, writeHeader } from "../protocol/record.ts";
import { writeAscii } from "../protocol/text.ts";

/** Zero bytes to pad any record. */
export const PADDING: Uint8Array = new Uint8Array(8);

/**
 * One or more STDOUT (or STDERR) records carrying a latin1 string (a CGI
 * header block, whose characters are all bytes), in one buffer.
 */
export function textRecords(type: number, requestId: number, text: string): Uint8Array {
  const records = Math.max(1, Math.ceil(text.length / FCGI_MAX_WRITE_CONTENT));
  const bytes = new Uint8Array(records * (FCGI_HEADER_LEN + 8) + text.length);
  let out = 0;
  for (let at = 0; at < text.length; at += FCGI_MAX_WRITE_CONTENT) {
    const length = Math.min(FCGI_MAX_WRITE_CONTENT, text.length - at);
    const padding = paddingFor(length);
    writeHeader(bytes, out, type, requestId, length, padding);
    writeAscii(bytes, out + FCGI_HEADER_LEN, text.slice(at, at + length));
    out += FCGI_HEADER_LEN + length + padding;
  }
  return bytes.subarray(0, out);
}

/** The END_REQUEST record, preceded by the empty STDOUT record when `closeStdout`. */
export function endRecords(
  requestId: number,
  appStatus: number,
  protocolStatus: number = ProtocolStatus.REQUEST_COMPLETE,
  closeStdout = true,
): Uint8Array {
  const start = closeStdout ? FCGI_HEADER_LEN : 0;
  const bytes = new Uint8Array(start + 16);
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
  const header = new Uint8Array(FCGI_HEADER_LEN);
  writeHeader(header, 0, type, requestId, length, paddingFor(length));
  return header;
}

/** The empty record that ends a stream. */
export function emptyRecord(type: number, requestId: number): Uint8Array {
  const bytes = new Uint8Array(FCGI_HEADER_LEN);
  writeHeader(bytes, 0, type, requestId, 0, 0);
  return bytes;
}
