import type { Params } from "./params.ts";
import { SignalRequest } from "./signal_request.ts";

/**
 * Why the params of a request could not become a `Request`: the request is
 * answered 400 and the handler is not called.
 *
 * @example
 * ```ts
 * import { FastCGIRequestError } from "@webfcgi/webfcgi";
 * const error = new FastCGIRequestError("bad host", { cause: new TypeError("Invalid URL") });
 * console.log(error.name); // FastCGIRequestError
 * ```
 */
export class FastCGIRequestError extends Error {
  /**
   * Creates the error.
   *
   * @param message what was wrong
   * @param options the underlying error
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FastCGIRequestError";
  }
}

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

function isOn(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value.toLowerCase() !== "off";
}

/** The scheme the client used: HTTPS first, then REQUEST_SCHEME. */
export function schemeOf(params: Params): "http" | "https" {
  if (isOn(params.HTTPS)) return "https";
  return params.REQUEST_SCHEME?.toLowerCase() === "https" ? "https" : "http";
}

function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The authority: HTTP_HOST, else SERVER_NAME (or SERVER_ADDR) and SERVER_PORT. */
export function hostOf(params: Params, scheme: string): string {
  const host = params.HTTP_HOST;
  if (host) return host;
  const name = params.SERVER_NAME || params.SERVER_ADDR || "localhost";
  const port = params.SERVER_PORT;
  const defaultPort = scheme === "https" ? "443" : "80";
  return port && port !== defaultPort ? `${bracket(name)}:${port}` : bracket(name);
}

/** Path and query as the client sent them: REQUEST_URI, else the CGI pieces. */
export function targetOf(params: Params): string {
  const uri = params.REQUEST_URI;
  if (uri) return uri;
  const query = params.QUERY_STRING;
  const path = (params.SCRIPT_NAME ?? "") + (params.PATH_INFO ?? "");
  return (path || "/") + (query ? `?${query}` : "");
}

/** The absolute URL of the request. */
export function urlOf(params: Params): string {
  const scheme = schemeOf(params);
  const target = targetOf(params);
  if (target.startsWith("/")) return `${scheme}://${hostOf(params, scheme)}${target}`;
  // Absolute-form targets (proxies) are kept if they parse, with our scheme.
  if (/^https?:\/\//i.test(target)) return target;
  return `${scheme}://${hostOf(params, scheme)}/${target === "*" ? "" : target}`;
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
  if (names !== undefined) {
    for (let i = 0; i < names.length; i++) appendHeader(headers, params, names[i]);
  } else {
    for (const name in params) appendHeader(headers, params, name);
  }
  if (params.CONTENT_TYPE) append(headers, "content-type", params.CONTENT_TYPE);
  const length = params.CONTENT_LENGTH;
  if (length && /^\d+$/.test(length)) append(headers, "content-length", length);
}

function appendHeader(headers: Headers, params: Params, name: string): void {
  if (name.length <= 5 || !name.startsWith("HTTP_") || HOP_BY_HOP.has(name)) return;
  // The CGI variables win over the HTTP_ copies some servers also send.
  if (name === "HTTP_CONTENT_TYPE" && params.CONTENT_TYPE !== undefined) return;
  if (name === "HTTP_CONTENT_LENGTH" && params.CONTENT_LENGTH !== undefined) return;
  append(headers, headerName(name), params[name]);
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
  let url: string;
  try {
    url = urlOf(params);
  } catch (cause) {
    throw new FastCGIRequestError("cannot build the request URL", { cause });
  }
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
