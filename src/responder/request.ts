import type { Params } from "./params.ts";
import { clientPart, pseudoParamsOf } from "./pseudo_params.ts";
import { FastCGIRequestError } from "./request_error.ts";
import { urlOf } from "./request_url.ts";
import { SignalRequest } from "./signal_request.ts";

export { FastCGIRequestError } from "./request_error.ts";
export { urlOf } from "./request_url.ts";

// Hop-by-hop request headers belong to the client's connection to the web
// server, not to this request.
const HOP_BY_HOP = new Set([
  "HTTP_CONNECTION",
  "HTTP_KEEP_ALIVE",
  "HTTP_TRANSFER_ENCODING",
  "HTTP_TE",
  "HTTP_UPGRADE",
  "HTTP_PROXY_CONNECTION",
  "HTTP_TRAILER",
]);

const encoder = new TextEncoder();

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Header values are byte strings: give the UTF-8 bytes of a param one char each. */
function toByteString(value: string): string {
  if (isAscii(value)) return value;
  let out = "";
  for (const byte of encoder.encode(value)) out += String.fromCharCode(byte);
  return out;
}

/** The request headers: HTTP_* params plus CONTENT_TYPE and CONTENT_LENGTH. */
export function headersOf(params: Params): Headers {
  const headers = new Headers();
  appendHeaders(headers, params);
  return headers;
}

/** Header names by param name: the same few come with every request. */
const HEADER_NAMES = new Map<string, string>();
/** Names kept at most; a peer sending endless new ones only empties the cache. */
const MAX_HEADER_NAMES = 512;

/** HTTP_ACCEPT_LANGUAGE -> accept-language. */
function headerName(param: string): string {
  let name = HEADER_NAMES.get(param);
  if (name === undefined) {
    name = param.slice(5).toLowerCase().replaceAll("_", "-");
    if (HEADER_NAMES.size >= MAX_HEADER_NAMES) HEADER_NAMES.clear();
    HEADER_NAMES.set(param, name);
  }
  return name;
}

/**
 * Appends the request headers of `params` (see {@link headersOf}) to
 * `headers`; `names` lists its HTTP_* names when the caller has them.
 */
function appendHeaders(headers: Headers, params: Params, names?: readonly string[]): void {
  const pseudo = pseudoParamsOf(params);
  if (names !== undefined) {
    for (let i = 0; i < names.length; i++) appendHeader(headers, params, names[i], pseudo);
  } else {
    for (const name in params) appendHeader(headers, params, name, pseudo);
  }
  if (params.CONTENT_TYPE) append(headers, "content-type", params.CONTENT_TYPE);
  const length = params.CONTENT_LENGTH;
  if (length && /^\d+$/.test(length)) append(headers, "content-length", length);
}

function appendHeader(
  headers: Headers,
  params: Params,
  name: string,
  pseudo: ReadonlySet<string> | null,
): void {
  if (name.length <= 5 || !name.startsWith("HTTP_") || HOP_BY_HOP.has(name)) return;
  // The CGI variables win over the HTTP_ copies some servers also send.
  if (name === "HTTP_CONTENT_TYPE" && params.CONTENT_TYPE !== undefined) return;
  if (name === "HTTP_CONTENT_LENGTH" && params.CONTENT_LENGTH !== undefined) return;
  let value: string | undefined = params[name];
  if (pseudo !== null && pseudo.has(name)) value = clientPart(value);
  if (value !== undefined) append(headers, headerName(name), value);
}

function append(headers: Headers, name: string, value: string): void {
  try {
    headers.append(name, toByteString(value));
  } catch {
    // A name or value no HTTP client could have sent: leave it in params only.
  }
}

/**
 * Builds the standard `Request` for a set of CGI params. Its signal fires
 * once `abortRequest` (signal_request.ts) is called with it. `headerNames`
 * are the HTTP_* names of `params` if known (see decodeParams).
 *
 * @throws {FastCGIRequestError} when the params do not form a valid request.
 */
export function buildRequest(
  params: Params,
  body: Uint8Array | ReadableStream<Uint8Array> | null,
  headerNames?: readonly string[],
): Request {
  const method = params.REQUEST_METHOD || "GET";
  const url = urlOf(params);
  let request: Request;
  try {
    // Headers are appended afterwards, and a GET gets no init at all: both
    // skip the init dictionary's conversion, a third of the cost in Deno.
    // (Server-side Requests have no forbidden header names to trip over.)
    if (method === "GET") request = new SignalRequest(url);
    else {
      const init: RequestInit & { duplex?: "half" } = { method };
      if (method !== "HEAD" && body !== null) {
        init.body = body as BodyInit;
        init.duplex = "half";
      }
      request = new SignalRequest(url, init);
    }
  } catch (cause) {
    throw new FastCGIRequestError(
      `invalid request (${method} ${params.REQUEST_URI ?? ""})`,
      { cause },
    );
  }
  appendHeaders(request.headers, params, headerNames);
  return request;
}
