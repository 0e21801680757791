/**
 * Base class of every error the FastCGI client reports: catch this one to
 * handle them all. `address` names the server (`unix:/path` or `host:port`).
 *
 * @example
 * ```ts
 * import { FastCGIClientError, fetchFastCGI } from "@webfcgi/webfcgi/client";
 * try {
 *   await fetchFastCGI("unix:/nonexistent/php.sock", "http://localhost/");
 * } catch (error) {
 *   if (error instanceof FastCGIClientError) console.log(error.address); // unix:/nonexistent/php.sock
 * }
 * ```
 */
export class FastCGIClientError extends Error {
  /** The server the request went to. */
  readonly address: string;

  /**
   * Creates the error.
   *
   * @param message what went wrong
   * @param address the server, as `unix:/path` or `host:port`
   * @param options the underlying error
   */
  constructor(message: string, address: string, options?: { cause?: unknown }) {
    super(`${message} (${address})`, options);
    this.name = "FastCGIClientError";
    this.address = address;
  }
}

/**
 * The server could not be reached, or the connection broke before the
 * response was complete. `cause` holds the system error (ECONNREFUSED,
 * ENOENT, ECONNRESET, ...) when there is one.
 *
 * @example
 * ```ts
 * import { FastCGIConnectionError, fetchFastCGI } from "@webfcgi/webfcgi/client";
 * try {
 *   await fetchFastCGI("127.0.0.1:1", "http://localhost/");
 * } catch (error) {
 *   if (error instanceof FastCGIConnectionError) console.log(error.name); // FastCGIConnectionError
 * }
 * ```
 */
export class FastCGIConnectionError extends FastCGIClientError {
  /**
   * Creates the error.
   *
   * @param message what went wrong
   * @param address the server
   * @param options the underlying error
   */
  constructor(message: string, address: string, options?: { cause?: unknown }) {
    super(message, address, options);
    this.name = "FastCGIConnectionError";
  }
}

/**
 * The server refused the request with FCGI_OVERLOADED: it is out of
 * capacity (for webfcgi's own server: `maxRequests` reached).
 *
 * @example
 * ```ts
 * import { FastCGIOverloadedError } from "@webfcgi/webfcgi/client";
 * const error = new FastCGIOverloadedError("127.0.0.1:9000");
 * console.log(error.name); // FastCGIOverloadedError
 * ```
 */
export class FastCGIOverloadedError extends FastCGIClientError {
  /**
   * Creates the error.
   *
   * @param address the server
   */
  constructor(address: string) {
    super("the FastCGI server is overloaded (FCGI_OVERLOADED)", address);
    this.name = "FastCGIOverloadedError";
  }
}

/**
 * The server does not play the requested role (FCGI_UNKNOWN_ROLE).
 *
 * @example
 * ```ts
 * import { FastCGIUnknownRoleError } from "@webfcgi/webfcgi/client";
 * const error = new FastCGIUnknownRoleError("127.0.0.1:9000", 7);
 * console.log(error.role); // 7
 * ```
 */
export class FastCGIUnknownRoleError extends FastCGIClientError {
  /** The role number that was refused. */
  readonly role: number;

  /**
   * Creates the error.
   *
   * @param address the server
   * @param role the role number sent
   */
  constructor(address: string, role: number) {
    super(`the FastCGI server does not play role ${role} (FCGI_UNKNOWN_ROLE)`, address);
    this.name = "FastCGIUnknownRoleError";
    this.role = role;
  }
}

/**
 * The server refused a second concurrent request on one connection
 * (FCGI_CANT_MPX_CONN). The client then stops multiplexing to it.
 *
 * @example
 * ```ts
 * import { FastCGICantMultiplexError } from "@webfcgi/webfcgi/client";
 * const error = new FastCGICantMultiplexError("unix:/run/app.sock");
 * console.log(error.name); // FastCGICantMultiplexError
 * ```
 */
export class FastCGICantMultiplexError extends FastCGIClientError {
  /**
   * Creates the error.
   *
   * @param address the server
   */
  constructor(address: string) {
    super("the FastCGI server cannot multiplex connections (FCGI_CANT_MPX_CONN)", address);
    this.name = "FastCGICantMultiplexError";
  }
}

/**
 * The server's reply was not a valid CGI response: no header block, a
 * malformed or oversized one, a bad Status line, or a broken record stream.
 *
 * @example
 * ```ts
 * import { FastCGIResponseError } from "@webfcgi/webfcgi/client";
 * const error = new FastCGIResponseError("no CGI header block", "127.0.0.1:9000");
 * console.log(error.message); // no CGI header block (127.0.0.1:9000)
 * ```
 */
export class FastCGIResponseError extends FastCGIClientError {
  /**
   * Creates the error.
   *
   * @param message what was wrong
   * @param address the server
   * @param options the underlying error
   */
  constructor(message: string, address: string, options?: { cause?: unknown }) {
    super(message, address, options);
    this.name = "FastCGIResponseError";
  }
}
