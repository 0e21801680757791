/**
 * The FastCGI client of webfcgi: `fetch` for FastCGI servers. Send a
 * standard `Request` to PHP-FPM, or to any FastCGI application, and get a
 * streaming `Response` back; pooled, keep-conn, multiplexed where the
 * server says it can.
 *
 * @example
 * ```ts
 * import { FastCGIClient } from "@webfcgi/webfcgi/client";
 *
 * // PHP-FPM's pool socket; bufferBody sends CONTENT_LENGTH for streamed bodies.
 * await using php = new FastCGIClient("unix:/run/php/php8.2-fpm.sock", { bufferBody: true });
 * const fetchPhp = (path: string) =>
 *   php.fetch(`http://localhost${path}`, {
 *     params: { SCRIPT_FILENAME: `/srv/www${new URL(path, "http://x").pathname}`, DOCUMENT_ROOT: "/srv/www" },
 *   });
 * ```
 * @module
 */

export { FastCGIClient, type FastCGIFetchInit, fetchFastCGI } from "./src/client/client.ts";
export type {
  FastCGIAddress,
  FastCGIClientOptions,
  FastCGIRequestInit,
} from "./src/client/types.ts";
export {
  FastCGICantMultiplexError,
  FastCGIClientError,
  FastCGIConnectionError,
  FastCGIOverloadedError,
  FastCGIResponseError,
  FastCGIUnknownRoleError,
} from "./src/client/errors.ts";
