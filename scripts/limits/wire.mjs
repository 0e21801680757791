// The FastCGI bytes `npm run limits` sends, written from the spec apart from
// src/ (like scripts/soak/fcgi.mjs): records, name-value pairs, nginx-like
// params, bodies as lists of shared record buffers (one 4 MiB body for 500
// connections costs the driver one 64 KiB buffer, not 2 GB).
import { Buffer } from "node:buffer";

export const BEGIN_REQUEST = 1;
export const END_REQUEST = 3;
export const PARAMS = 4;
export const STDIN = 5;
export const GET_VALUES = 9;
export const RESPONDER = 1;
export const FILTER = 3;
/** A record type FastCGI does not define: a management record of it gets FCGI_UNKNOWN_TYPE. */
export const UNDEFINED_TYPE = 42;
/** The largest record content that needs no padding (a multiple of 8). */
const MAX_CONTENT = 65528;

/** One record; content up to 65,535 bytes, padded to a multiple of 8. */
export function record(type, id, content = Buffer.alloc(0)) {
  const padding = (8 - (content.length % 8)) % 8;
  const out = Buffer.alloc(8 + content.length + padding);
  out.set([1, type, id >> 8, id & 255, content.length >> 8, content.length & 255, padding, 0]);
  out.set(content, 8);
  return out;
}

function lengthBytes(length) {
  return length < 128
    ? [length]
    : [(length >>> 24) | 0x80, (length >>> 16) & 255, (length >>> 8) & 255, length & 255];
}

/** Name-value pairs (ASCII), in order. */
export function pairs(entries) {
  const parts = [];
  for (const [name, value] of entries) {
    parts.push(Buffer.from([...lengthBytes(name.length), ...lengthBytes(value.length)]));
    parts.push(Buffer.from(name, "latin1"), Buffer.from(value, "latin1"));
  }
  return Buffer.concat(parts);
}

const pairSize = (name, value) =>
  lengthBytes(name.length).length + lengthBytes(value.length).length + name.length +
  value.length;

/**
 * What nginx sends for a browser's request (fastcgi_params, with its empty
 * CONTENT_TYPE and CONTENT_LENGTH for a GET, plus the usual request
 * headers): about 1 KB as pairs.
 */
export function nginxParams({ method = "GET", uri = "/hold", contentLength = "" } = {}) {
  const [script, query = ""] = uri.split("?");
  return [
    ["QUERY_STRING", query],
    ["REQUEST_METHOD", method],
    ["CONTENT_TYPE", contentLength === "" ? "" : "application/octet-stream"],
    ["CONTENT_LENGTH", contentLength],
    ["SCRIPT_NAME", script],
    ["REQUEST_URI", uri],
    ["DOCUMENT_URI", script],
    ["DOCUMENT_ROOT", "/srv/www/example/public"],
    ["SERVER_PROTOCOL", "HTTP/1.1"],
    ["REQUEST_SCHEME", "https"],
    ["HTTPS", "on"],
    ["GATEWAY_INTERFACE", "CGI/1.1"],
    ["SERVER_SOFTWARE", "nginx/1.22.1"],
    ["REMOTE_ADDR", "203.0.113.47"],
    ["REMOTE_PORT", "52814"],
    ["SERVER_ADDR", "192.0.2.10"],
    ["SERVER_PORT", "443"],
    ["SERVER_NAME", "www.example.com"],
    ["REDIRECT_STATUS", "200"],
    ["SCRIPT_FILENAME", `/srv/www/example/public${script}`],
    ["HTTP_HOST", "www.example.com"],
    [
      "HTTP_USER_AGENT",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    ],
    [
      "HTTP_ACCEPT",
      "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    ],
    ["HTTP_ACCEPT_LANGUAGE", "en-GB,en;q=0.9,de;q=0.8"],
    ["HTTP_ACCEPT_ENCODING", "gzip, deflate, br, zstd"],
    ["HTTP_REFERER", "https://www.example.com/articles/2024/limits-and-their-costs"],
    [
      "HTTP_COOKIE",
      "session=3f9a1c2e8b7d4f60a1b2c3d4e5f60718; theme=dark; consent=necessary,analytics; _ga=GA1.2.1234567890.1700000000",
    ],
    ["HTTP_SEC_FETCH_SITE", "same-origin"],
    ["HTTP_SEC_FETCH_MODE", "navigate"],
    ["HTTP_SEC_FETCH_DEST", "document"],
    ["HTTP_UPGRADE_INSECURE_REQUESTS", "1"],
    ["HTTP_CONNECTION", "keep-alive"],
  ];
}

/**
 * nginx-like params padded with HTTP_X_FILL_<i> headers of about 8 KB
 * (nginx's default large_client_header_buffers line) to exactly `total`
 * bytes of PARAMS content.
 */
export function paramsOfSize(total, options) {
  const entries = nginxParams(options);
  let left = total - entries.reduce((n, [name, value]) => n + pairSize(name, value), 0);
  const fill = (i, length) => [`HTTP_X_FILL_${i}`, "f".repeat(length)];
  for (let i = 0; left > 0; i++) {
    const name = fill(i, 0)[0];
    const overhead = pairSize(name, "x".repeat(200)) - 200;
    const length = left - overhead >= 8000 + overhead + 200 ? 8000 : left - overhead;
    if (length < 128) throw new Error(`cannot pad params to ${total} bytes exactly`);
    entries.push(fill(i, length));
    left -= pairSize(...entries.at(-1));
  }
  const bytes = pairs(entries);
  if (bytes.length !== total) throw new Error(`params are ${bytes.length} bytes, not ${total}`);
  return bytes;
}

/** A stream's content as records of at most 65,528 bytes, then its empty record. */
export function streamRecords(type, id, content) {
  const out = [];
  for (let at = 0; at < content.length; at += MAX_CONTENT) {
    out.push(record(type, id, content.subarray(at, at + MAX_CONTENT)));
  }
  out.push(record(type, id));
  return out;
}

/** BEGIN_REQUEST (FCGI_KEEP_CONN set) and the whole PARAMS stream, as one buffer. */
export function requestHead(id, role, paramBytes) {
  return Buffer.concat([
    record(BEGIN_REQUEST, id, Buffer.from([0, role, 1, 0, 0, 0, 0, 0])),
    ...streamRecords(PARAMS, id, paramBytes),
  ]);
}

/**
 * A body of `size` bytes on `type` (STDIN) as a list of buffers to write in
 * order, the full records all one shared buffer; with `end`, its empty record.
 */
export function bodyRecords(type, id, size, { end = true } = {}) {
  const full = record(type, id, Buffer.alloc(MAX_CONTENT, 0x61));
  const out = new Array(Math.floor(size / MAX_CONTENT)).fill(full);
  if (size % MAX_CONTENT > 0) out.push(record(type, id, Buffer.alloc(size % MAX_CONTENT, 0x61)));
  if (end) out.push(record(type, id));
  return out;
}

/** FCGI_GET_VALUES for `names`. */
export function getValues(names) {
  return record(GET_VALUES, 0, pairs(names.map((name) => [name, ""])));
}

/** `count` 8-byte management records of a type FastCGI does not define, as one buffer. */
export function undefinedTypeRecords(count) {
  const out = Buffer.alloc(8 * count);
  for (let at = 0; at < out.length; at += 8) out.set([1, UNDEFINED_TYPE, 0, 0, 0, 0, 0, 0], at);
  return out;
}
