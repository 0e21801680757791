// The CGI response header block (RFC 3875 section 6) a FastCGI responder
// writes at the start of FCGI_STDOUT.

/** The parsed header block. */
export interface CgiHead {
  status: number;
  statusText: string;
  headers: Headers;
}

const LF = 10;
const CR = 13;
const STATUS = /^(\d{3})(?:[ \t]+(.*))?$/;
const ABSOLUTE_URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/**
 * Finds the blank line ending the header block in `bytes`, scanning from
 * `from` (bytes before it were scanned already). Returns the index where the
 * body starts, or -1. Lines may end in CRLF or LF.
 */
export function findHeadEnd(bytes: Uint8Array, from: number): number {
  // A block may be empty: the blank line comes first.
  if (from === 0) {
    if (bytes[0] === LF) return 1;
    if (bytes[0] === CR && bytes[1] === LF) return 2;
  }
  for (let i = Math.max(0, from - 2); i < bytes.length - 1; i++) {
    if (bytes[i] !== LF) continue;
    if (bytes[i + 1] === LF) return i + 2;
    if (bytes[i + 1] === CR && i + 2 < bytes.length && bytes[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** Header bytes as a byte string: one char per byte, as Headers wants. */
function byteString(bytes: Uint8Array): string {
  let text = "";
  for (let at = 0; at < bytes.length; at += 8192) {
    text += String.fromCharCode(...bytes.subarray(at, at + 8192));
  }
  return text;
}

/**
 * Parses a CGI header block (without the blank line). `Status` sets the
 * status (default 200); without it, a `Location` with an absolute URL means
 * 302 (a client redirect), while a local one (`/path`) stays 200: a web
 * server would follow that internally, a client hands it back as is. Every
 * other header is kept, repeated ones (Set-Cookie) one by one.
 *
 * @throws {RangeError} with the reason when the block is malformed.
 */
export function parseCgiHead(block: Uint8Array): CgiHead {
  const headers = new Headers();
  let status: number | undefined;
  let statusText = "";
  let location: string | undefined;
  const lines = byteString(block).split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    // obs-fold: continuation lines belong to the header before them.
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1])) line += ` ${lines[++i].trim()}`;
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new RangeError(`malformed CGI header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") {
      const match = STATUS.exec(value);
      if (match === null) throw new RangeError(`malformed CGI Status ${JSON.stringify(value)}`);
      status = Number(match[1]);
      statusText = match[2]?.trim() ?? "";
      continue;
    }
    if (name.toLowerCase() === "location") location = value;
    try {
      headers.append(name, value);
    } catch {
      // A name or value HTTP does not allow: dropped, as a web server would.
    }
  }
  if (status === undefined) {
    status = location !== undefined && ABSOLUTE_URI.test(location) ? 302 : 200;
  }
  if (status < 200 || status > 599) {
    throw new RangeError(`CGI Status ${status} is outside 200-599`);
  }
  return { status, statusText, headers };
}
