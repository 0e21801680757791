import type { PairPart } from "../protocol/pairs.ts";

/** What the params need to know about the body besides the request. */
export interface BodyLength {
  /** No body at all (CONTENT_LENGTH ""), a known length, or unknown (no CONTENT_LENGTH). */
  length: number | null | "none";
}

/** Where the request came from and arrived, when the caller knows (else loopback). */
const DEFAULT_ADDR = "127.0.0.1";

// A Headers value is a byte string: send its bytes one for one, not as UTF-8.
function byteStringBytes(value: string): PairPart {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) {
      const bytes = new Uint8Array(value.length);
      for (let j = 0; j < value.length; j++) bytes[j] = value.charCodeAt(j) & 0xff;
      return bytes;
    }
  }
  return value;
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

/**
 * The CGI params for `request`, as nginx's stock `fastcgi_params` sends
 * them, then `extra` (which adds or overrides; later wins).
 *
 * SCRIPT_FILENAME and DOCUMENT_ROOT are the caller's to add: the request
 * alone cannot say where scripts live.
 */
export function requestParams(
  request: Request,
  body: BodyLength,
  ...extra: Array<Record<string, string> | undefined>
): Array<[string, PairPart]> {
  const url = new URL(request.url);
  const scheme = url.protocol.slice(0, -1);
  const https = scheme === "https";
  const path = decodePath(url.pathname);
  const params = new Map<string, PairPart>([
    ["QUERY_STRING", url.search.slice(1)],
    ["REQUEST_METHOD", request.method],
    ["CONTENT_TYPE", request.headers.get("content-type") ?? ""],
  ]);
  if (body.length === "none") params.set("CONTENT_LENGTH", "");
  else if (body.length !== null) params.set("CONTENT_LENGTH", String(body.length));
  params.set("SCRIPT_NAME", path);
  params.set("REQUEST_URI", url.pathname + url.search);
  params.set("DOCUMENT_URI", path);
  params.set("SERVER_PROTOCOL", "HTTP/1.1");
  params.set("REQUEST_SCHEME", scheme);
  if (https) params.set("HTTPS", "on");
  params.set("GATEWAY_INTERFACE", "CGI/1.1");
  params.set("SERVER_SOFTWARE", "webfcgi");
  params.set("REMOTE_ADDR", DEFAULT_ADDR);
  params.set("REMOTE_PORT", "0");
  params.set("SERVER_ADDR", DEFAULT_ADDR);
  params.set("SERVER_PORT", url.port || (https ? "443" : "80"));
  params.set("SERVER_NAME", url.hostname.replace(/^\[(.*)\]$/, "$1"));
  // Debian's fastcgi_params adds it; PHP built with force-cgi-redirect wants it.
  params.set("REDIRECT_STATUS", "200");
  if (!request.headers.has("host")) params.set("HTTP_HOST", url.host);
  for (const [name, value] of request.headers) {
    const key = `HTTP_${name.toUpperCase().replaceAll("-", "_")}`;
    // Headers joins repeated Cookie headers with ", "; a cookie list wants "; ".
    const merged = key === "HTTP_COOKIE" ? value.replaceAll(", ", "; ") : value;
    params.set(key, byteStringBytes(merged));
  }
  for (const more of extra) {
    if (more === undefined) continue;
    for (const name of Object.keys(more)) params.set(name, String(more[name]));
  }
  return [...params];
}
