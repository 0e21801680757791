import { forEachPair } from "../protocol/pairs.ts";
import { decodeText } from "../protocol/text.ts";
import { NameCache } from "./name_cache.ts";
import { FastCGIRequestError } from "./request_error.ts";

/**
 * Header params (HTTP_*) one request may carry, repeats counted: 1,000, as
 * common servers allow (Node's http 2,000, Apache 100). Every distinct
 * header costs an append to Headers, which grows worse than linearly: 20,000
 * cost 0.7-0.8 s on Deno and Bun.
 */
export const MAX_HEADER_PARAMS = 1000;

/**
 * CGI params of one request: a null-prototype record of strings.
 *
 * @example
 * ```ts
 * import type { Params } from "@webfcgi/webfcgi";
 * const params: Params = Object.assign(Object.create(null), { REQUEST_METHOD: "GET" });
 * ```
 */
export type Params = Readonly<Record<string, string>>;

/**
 * Decodes a whole PARAMS stream. Names repeat when a web server forwards a
 * repeated header as repeated params (nginx 1.22, h2o, HAProxy): those are
 * merged in order, cookies with "; " and everything else with ", ".
 * `headerNames`, when given, receives each HTTP_* name once, in order (a
 * for-in over the params record costs more than the decoding in V8).
 *
 * @throws {FastCGIRequestError} (status 431) past MAX_HEADER_PARAMS header params.
 * @throws {FastCGIProtocolError} on malformed pairs.
 */
export function decodeParams(block: Uint8Array, headerNames?: string[]): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  let headers = 0;
  // Params are almost always ASCII: one decode of the whole block, then
  // slices, costs far less than building each string on its own.
  const ascii = isAscii(block) ? asciiText.decode(block) : null;
  forEachPair(block, (bytes, ns, ne, vs, ve) => {
    const name = names.get(bytes, ns, ne, ascii);
    const value = ascii !== null
      ? ascii.slice(vs, ve)
      : name === "REQUEST_URI"
      ? decodeTarget(bytes, vs, ve)
      : decodeText(bytes, vs, ve);
    const header = name.startsWith("HTTP_");
    if (header && ++headers > MAX_HEADER_PARAMS) {
      throw new FastCGIRequestError(`more than ${MAX_HEADER_PARAMS} header params`, {
        status: 431,
      });
    }
    const previous = params[name];
    if (previous === undefined) {
      params[name] = value;
      if (header && headerNames !== undefined) headerNames.push(name);
    } else params[name] = previous + (name === "HTTP_COOKIE" ? "; " : ", ") + value;
  });
  return params;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const asciiText = new TextDecoder("utf-8", { ignoreBOM: true });
const names = new NameCache();

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return false;
  return true;
}

/**
 * REQUEST_URI carries the request target's raw bytes (nginx, Apache and
 * lighttpd pass them unchanged). UTF-8 decodes as text; bytes that are not
 * UTF-8 (a Latin-1 URL from an old client) are percent-encoded instead of
 * becoming U+FFFD, so request.url keeps them (`%FF`).
 */
function decodeTarget(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end && ascii; i++) ascii = bytes[i] < 0x80;
  if (ascii) return decodeText(bytes, start, end);
  try {
    return strictUtf8.decode(bytes.subarray(start, end));
  } catch {
    let text = "";
    for (let i = start; i < end; i++) {
      const byte = bytes[i];
      text += byte < 0x80
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
    return text;
  }
}
