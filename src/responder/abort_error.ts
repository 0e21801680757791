/**
 * The reason `request.signal` carries when the web server aborted the
 * request (FCGI_ABORT_REQUEST) or closed the connection.
 *
 * @example
 * ```ts
 * import { FastCGIAbortError } from "@webfcgi/webfcgi";
 * const reason = new FastCGIAbortError("connection closed by the web server");
 * console.log(reason.name); // AbortError
 * ```
 */
export class FastCGIAbortError extends Error {
  /**
   * Creates the error.
   *
   * @param message why the request was aborted
   */
  constructor(message: string) {
    super(message);
    this.name = "AbortError";
  }
}
