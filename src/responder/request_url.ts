// request.url from the CGI params, written so that the WHATWG URL parser
// reads the path the web server matched, not another one. Left alone, the
// parser turns `\` into `/`, drops tabs and newlines, trims spaces, ends a
// host at `\`, `/`, `?` or `#`, and resolves `.` and `..` segments in every
// spelling (`%2e` included): `/public\..\admin` would reach the app as
// `/admin` behind a server that allowed `/public`.
import type { Params } from "./params.ts";
import { FastCGIRequestError } from "./request_error.ts";

function isOn(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value.toLowerCase() !== "off";
}

/** The scheme the client used: HTTPS first, then REQUEST_SCHEME. */
export function schemeOf(params: Params): "http" | "https" {
  if (isOn(params.HTTPS)) return "https";
  return params.REQUEST_SCHEME?.toLowerCase() === "https" ? "https" : "http";
}

/**
 * RFC 3986 `host [":" port]`: an IP literal or a reg-name. No userinfo, no
 * path, query or fragment characters, no spaces, nothing above ASCII.
 */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]*)?$/;

/** True when `text` is a valid authority for request.url (see AUTHORITY). */
export function isAuthority(text: string): boolean {
  return AUTHORITY.test(text);
}

function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** A short, quoted copy of untrusted text for an error message. */
function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text);
}

/**
 * The authority: HTTP_HOST, else SERVER_NAME (or SERVER_ADDR) and SERVER_PORT.
 *
 * @throws {FastCGIRequestError} when HTTP_HOST is not a valid authority.
 */
export function hostOf(params: Params, scheme: string): string {
  const host = params.HTTP_HOST;
  if (host) {
    // Header values are never logged (SECURITY.md): the message does not quote it.
    if (!AUTHORITY.test(host)) throw new FastCGIRequestError("invalid Host: not a host[:port]");
    return host;
  }
  // The server's own names; one that is not a host name (an nginx regex
  // server_name, say) is passed over rather than refused.
  let name = "localhost";
  for (const candidate of [params.SERVER_NAME, params.SERVER_ADDR]) {
    if (candidate && AUTHORITY.test(bracket(candidate))) {
      name = bracket(candidate);
      break;
    }
  }
  const port = params.SERVER_PORT;
  const defaultPort = scheme === "https" ? "443" : "80";
  return port && /^\d+$/.test(port) && port !== defaultPort ? `${name}:${port}` : name;
}

/** `%` `?` `#` and what the parser would reinterpret, in an already decoded path. */
// deno-lint-ignore no-control-regex
const DECODED_SPECIAL = /[\u0000-\u0020%?#\\\u007f]/g;

function percent(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
}

/** Path and query as the client sent them: REQUEST_URI, else the CGI pieces. */
export function targetOf(params: Params): string {
  const uri = params.REQUEST_URI;
  if (uri) return uri;
  // SCRIPT_NAME and PATH_INFO are decoded (CGI): encode them back.
  const path = ((params.SCRIPT_NAME ?? "") + (params.PATH_INFO ?? ""))
    .replace(DECODED_SPECIAL, percent);
  const query = params.QUERY_STRING;
  return (path || "/") + (query ? `?${query}` : "");
}

/** An absolute-form target (a proxy request): its authority ends where the parser ends it. */
const ABSOLUTE = /^https?:\/\/([^/?#\\]*)/i;

/**
 * The absolute URL of the request.
 *
 * @throws {FastCGIRequestError} when the Host (or the authority of an
 * absolute-form target) is not a valid authority, or the path has dot
 * segments (no URL can carry them unresolved).
 */
export function urlOf(params: Params): string {
  const scheme = schemeOf(params);
  let target = targetOf(params);
  let authority: string | undefined;
  if (target.charCodeAt(0) !== SLASH) {
    const absolute = ABSOLUTE.exec(target);
    if (absolute !== null) {
      // RFC 9112 3.2.2: the target's authority wins over the Host header.
      authority = absolute[1];
      if (!AUTHORITY.test(authority)) {
        throw new FastCGIRequestError(`invalid authority in the request target ${quote(target)}`);
      }
      target = target.slice(absolute[0].length);
      if (target.charCodeAt(0) !== SLASH) target = `/${target}`;
    } else target = target === "*" ? "/" : `/${target}`;
  }
  return `${scheme}://${authority ?? hostOf(params, scheme)}${safeTarget(target)}`;
}

const SLASH = 0x2f;

/**
 * `target` (path and query) with what the URL parser would reinterpret
 * percent-encoded: `\` in the path (a `/` to the parser), C0 controls,
 * space and DEL (removed or trimmed by it).
 *
 * @throws {FastCGIRequestError} when the path has a dot segment.
 */
function safeTarget(target: string): string {
  let pathEnd = target.length;
  let encode = false;
  let dots = false;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) encode = true;
    else if (i < pathEnd) {
      if (c === 0x3f || c === 0x23) pathEnd = i; // ? or #: the path ends
      else if (c === 0x5c) encode = true; // \
      else if (c === 0x2e || c === 0x25) dots = true; // . or %: maybe a dot segment
    }
  }
  if (!encode && !dots) return target;
  let path = target.slice(0, pathEnd);
  let rest = target.slice(pathEnd);
  if (encode) {
    path = path.replace(PATH_SPECIAL, percent);
    rest = rest.replace(CONTROL, percent);
  }
  if (dots && hasDotSegment(path)) {
    throw new FastCGIRequestError(
      `the path has a "." or ".." segment, which request.url cannot carry unresolved: ${
        quote(target)
      }`,
    );
  }
  return path + rest;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0020\u007f]/g;
// deno-lint-ignore no-control-regex
const PATH_SPECIAL = /[\u0000-\u0020\\\u007f]/g;
/** What the URL standard reads as "." or "..": either dot may be written %2e. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

function hasDotSegment(path: string): boolean {
  for (const segment of path.split("/")) if (DOT_SEGMENT.test(segment)) return true;
  return false;
}
