/**
 * Why the params of a request could not become a `Request`: the request is
 * answered with `status` (400, or 431 for too many header fields) and the
 * handler is not called.
 *
 * @example
 * ```ts
 * import { FastCGIRequestError } from "@webfcgi/webfcgi";
 * const error = new FastCGIRequestError("bad host", { cause: new TypeError("Invalid URL") });
 * console.log(error.name, error.status); // FastCGIRequestError 400
 * ```
 */
export class FastCGIRequestError extends Error {
  /** The HTTP status the request is answered with. */
  readonly status: 400 | 431;

  /**
   * Creates the error.
   *
   * @param message what was wrong
   * @param options the underlying error, and the status (default 400)
   */
  constructor(message: string, options?: { cause?: unknown; status?: 400 | 431 }) {
    super(message, options);
    this.name = "FastCGIRequestError";
    this.status = options?.status ?? 400;
  }
}
