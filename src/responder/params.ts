import { forEachPair } from "../protocol/pairs.ts";
import { decodeText } from "../protocol/text.ts";

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
 */
export function decodeParams(block: Uint8Array): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  forEachPair(block, (bytes, ns, ne, vs, ve) => {
    const name = decodeText(bytes, ns, ne);
    const value = decodeText(bytes, vs, ve);
    const previous = params[name];
    if (previous === undefined) params[name] = value;
    else params[name] = previous + (name === "HTTP_COOKIE" ? "; " : ", ") + value;
  });
  return params;
}
