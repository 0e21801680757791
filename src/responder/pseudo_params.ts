// Some web servers add params of their own under HTTP_ names, which the
// CGI convention reserves for request headers. They are not headers: they
// must not become request headers, nor merge into a client's real header
// of the same name.
import type { Params } from "./params.ts";

/**
 * Hiawatha (10.x) appends HTTP_SCHEME ("http"/"https") and HTTP_RETURN_CODE
 * after the client's header params, so after the merge of repeated names
 * its own value is the last ", "-separated piece.
 */
const HIAWATHA = new Set(["HTTP_SCHEME", "HTTP_RETURN_CODE"]);

/** The HTTP_ params the web server that sent `params` adds itself, or null. */
export function pseudoParamsOf(params: Params): ReadonlySet<string> | null {
  return params.SERVER_SOFTWARE?.startsWith("Hiawatha") ? HIAWATHA : null;
}

/**
 * The client's part of a merged pseudo-param (the server's own value is the
 * last piece), or undefined when the client sent no header of that name.
 *
 * @example
 * ```ts ignore
 * clientPart("evil, http"); // "evil"
 * clientPart("http"); // undefined
 * ```
 */
export function clientPart(value: string): string | undefined {
  const at = value.lastIndexOf(", ");
  return at < 0 ? undefined : value.slice(0, at);
}
