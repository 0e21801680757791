/**
 * Where a FastCGI server listens: a Unix socket path (`"/run/php/php-fpm.sock"`),
 * `{ path }`, `{ hostname, port }`, or the strings the CLI takes:
 * `"unix:/run/app.sock"`, `"127.0.0.1:9000"`, `"[::1]:9000"`.
 *
 * @example
 * ```ts
 * import type { FastCGIAddress } from "@webfcgi/webfcgi/client";
 * const tcp: FastCGIAddress = { hostname: "127.0.0.1", port: 9000 };
 * const unix: FastCGIAddress = "unix:/run/php/php8.2-fpm.sock";
 * ```
 */
export type FastCGIAddress =
  | string
  | { path: string }
  | { hostname?: string; port: number };

/**
 * Options of a {@linkcode FastCGIClient}.
 *
 * @example
 * ```ts
 * import type { FastCGIClientOptions } from "@webfcgi/webfcgi/client";
 * // PHP-FPM: buffer streamed bodies so PHP gets CONTENT_LENGTH.
 * const options: FastCGIClientOptions = { maxConnections: 4, bufferBody: true };
 * ```
 */
export interface FastCGIClientOptions {
  /**
   * Connections kept open to the server at most; further requests wait in
   * a queue. Default 8. A PHP-FPM child serves one kept connection at a
   * time, so keep this at or below the pool's `pm.max_children`.
   */
  maxConnections?: number;
  /** Ms an unused connection stays open before it is closed. Default 5000. */
  idleTimeout?: number;
  /** Ms to wait for a connection to open. Default 10000. */
  connectTimeout?: number;
  /**
   * Multiplex requests over one connection. By default the client asks the
   * server once (FCGI_GET_VALUES for FCGI_MPXS_CONNS) and multiplexes only
   * if it says 1 (PHP-FPM says 0, webfcgi's own server says 1). `false`
   * never asks and sends one request per connection at a time; `true`
   * multiplexes without asking. A server that does not answer the question
   * delays the first request by up to 2 s: pass `false` for such a server.
   * Multiplexed requests share one socket, so a response body nobody reads
   * pauses the others too (read or cancel every body).
   */
  multiplex?: boolean;
  /**
   * Read a request body of unknown length (a stream without Content-Length)
   * into memory first, so that CONTENT_LENGTH can be sent. Default false:
   * such a body is streamed as FCGI_STDIN without CONTENT_LENGTH. PHP-FPM
   * reads only CONTENT_LENGTH bytes (php/php-src#7509), so it sees an empty
   * body, and one larger than the socket buffer can make it close the
   * connection mid-request: turn this on for PHP, or give the body as a
   * string, bytes, URLSearchParams, FormData or Blob (their length is known).
   */
  bufferBody?: boolean;
  /**
   * Receives the server's FCGI_STDERR text (PHP's `error_log()` messages,
   * for example) as it arrives. Default: written to the process's stderr
   * (console.error), line by line.
   */
  onStderr?: (text: string, request: Request) => void;
  /** Params sent with every request, before the per-request `params`. */
  params?: Record<string, string>;
}

/**
 * The second argument of `client.fetch()` and {@linkcode fetchFastCGI}:
 * a standard `RequestInit` plus the FastCGI extras.
 *
 * @example
 * ```ts
 * import type { FastCGIRequestInit } from "@webfcgi/webfcgi/client";
 * const init: FastCGIRequestInit = {
 *   method: "POST",
 *   body: new URLSearchParams({ name: "Ada" }),
 *   params: { SCRIPT_FILENAME: "/srv/www/form.php", DOCUMENT_ROOT: "/srv/www" },
 * };
 * ```
 */
export interface FastCGIRequestInit extends RequestInit {
  /**
   * CGI params to add, or to override the ones derived from the request
   * (SCRIPT_FILENAME, DOCUMENT_ROOT, SCRIPT_NAME, PATH_INFO, REMOTE_ADDR, ...).
   */
  params?: Record<string, string>;
  /** Overrides the client's `bufferBody` for this request. */
  bufferBody?: boolean;
  /** The FastCGI role. Default "responder". */
  role?: "responder" | "authorizer" | "filter" | number;
  /** FCGI_DATA for the filter role (the file to filter). */
  data?: Uint8Array | string;
}
