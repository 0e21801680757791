import type { Addr, NetAddr } from "../transport/types.ts";
import type { Params } from "./params.ts";

/**
 * What a handler learns besides the `Request`.
 *
 * @example
 * ```ts
 * import { serveFastCGI } from "@webfcgi/webfcgi";
 * const server = serveFastCGI({ port: 0, onListen() {} }, (_request, info) => {
 *   return new Response(`${info.role} request ${info.requestId} from ${info.remoteAddr.hostname}`);
 * });
 * await server.shutdown();
 * ```
 */
export interface FastCGIInfo {
  /** Every CGI param, as sent (repeated names merged), null-prototype. */
  readonly params: Params;
  /** The FastCGI role of this request. */
  readonly role: "responder" | "authorizer" | "filter";
  /** The FastCGI request id (1 for every request from nginx). */
  readonly requestId: number;
  /** The HTTP client, from REMOTE_ADDR and REMOTE_PORT. */
  readonly remoteAddr: NetAddr;
  /** FCGI_DATA for the filter role (the file to filter), else null. */
  readonly data: ReadableStream<Uint8Array> | null;
  /** Settles once the response has been handed to the web server, or the request ended otherwise. */
  readonly completed: Promise<void>;
}

/**
 * A fetch handler, as Deno.serve and Bun.serve take it.
 *
 * @example
 * ```ts
 * import type { FastCGIHandler } from "@webfcgi/webfcgi";
 * const handler: FastCGIHandler = (request) => new Response(request.method);
 * ```
 */
export type FastCGIHandler = (
  request: Request,
  info: FastCGIInfo,
) => Response | Promise<Response>;

/**
 * Options of {@linkcode serveFastCGI}. Where to listen: `path` (Unix
 * socket), else `port`/`hostname`, else `fd`; with none of them, an
 * inherited socket (systemd's LISTEN_FDS, or a listening socket on fd 0 as
 * spawn-fcgi, mod_fcgid and lighttpd hand it), else 127.0.0.1:9000.
 *
 * @example
 * ```ts
 * import type { FastCGIServeOptions } from "@webfcgi/webfcgi";
 * const options: FastCGIServeOptions = { hostname: "127.0.0.1", port: 9000, maxRequests: 100 };
 * ```
 */
export interface FastCGIServeOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** TCP address to bind; default "127.0.0.1". */
  hostname?: string;
  /** Unix socket path; a stale socket file nobody listens on is replaced. */
  path?: string;
  /**
   * Permissions of the Unix socket file. Default 0o660: the owner and its
   * group may connect (PHP-FPM's listen.mode default); give the web server's
   * user that group, or pass 0o666 to let every local user connect.
   */
  mode?: number;
  /** An inherited listening socket's file descriptor (0 = FCGI_LISTENSOCK_FILENO). */
  fd?: number;
  /** Aborting it shuts the server down gracefully. */
  signal?: AbortSignal;
  /** Called once listening; default: a line on stderr (none for an inherited socket). */
  onListen?: (addr: Addr) => void;
  /**
   * Called when the handler throws or returns something that is not a
   * Response; may return the Response to send. Default: 500.
   */
  onError?: (error: unknown) => Response | Promise<Response>;
  /**
   * Concurrent connections; more are closed at once. Default 1000, or less
   * where the descriptor limit (`ulimit -n`, read on Linux) leaves less
   * room: the limit minus 32 and an eighth of it.
   */
  maxConnections?: number;
  /** Concurrent requests over all connections; more get FCGI_OVERLOADED. Default 1000. */
  maxRequests?: number;
  /** Bytes of PARAMS one request may send; more gets a 431 response. Default 262144. */
  maxParamsBytes?: number;
  /** Ms from BEGIN_REQUEST until the params are complete; then the connection closes. Default 30000. */
  paramsTimeout?: number;
  /** Ms a connection with no request may stay open. Default 120000; 0 disables. */
  idleTimeout?: number;
  /**
   * Bytes of one request's body held for a handler that has not read them
   * yet, where reading must go on: on a multiplexed connection (so that the
   * other requests on it are not held up), for a Filter's FCGI_STDIN, and
   * for a request that has not read its body for a second (read ahead, so
   * that a paused connection still sees the web server leave). Past it the
   * connection stops reading until the handler reads. Otherwise a request
   * pauses its connection at 64 KiB unread. Default 1048576 (1 MiB).
   */
  maxUnreadBody?: number;
  /**
   * Ms a request on a multiplexed connection may hold it paused by leaving
   * `maxUnreadBody` of its body unread; then that request alone is aborted
   * (its signal fires, END_REQUEST goes out, the rest of its body is
   * dropped) and the connection reads on. Checked once a second. Default
   * 5000; 0 disables.
   */
  bodyStallTimeout?: number;
  /** Ms that shutdown() lets requests run before aborting them. Default: no limit. */
  shutdownTimeout?: number;
  /** Run concurrent requests on one connection. Default true. */
  multiplex?: boolean;
  /**
   * Peers allowed to connect over TCP (IPv4/IPv6 addresses). Default: the
   * comma-separated FCGI_WEB_SERVER_ADDRS variable, else everyone.
   */
  allowedAddresses?: readonly string[] | null;
}

/**
 * Options plus the handler, as one object (`handler` or `fetch`).
 *
 * @example
 * ```ts
 * import type { FastCGIServeInit } from "@webfcgi/webfcgi";
 * const init: FastCGIServeInit = { port: 9000, fetch: () => new Response("hi") };
 * ```
 */
export type FastCGIServeInit =
  & FastCGIServeOptions
  & ({ handler: FastCGIHandler; fetch?: undefined } | {
    fetch: FastCGIHandler;
    handler?: undefined;
  });

/**
 * A running FastCGI server.
 *
 * @example
 * ```ts
 * import { serveFastCGI } from "@webfcgi/webfcgi";
 * await using server = serveFastCGI({ port: 0, onListen() {} }, () => new Response("hi"));
 * console.log((await server.listening).transport); // tcp
 * ```
 */
export interface FastCGIServer extends AsyncDisposable {
  /** The bound address; throws before listening has finished (see `listening`). */
  readonly addr: Addr;
  /** Resolves with the address once listening; rejects if binding failed. */
  readonly listening: Promise<Addr>;
  /** Resolves once the server has stopped; rejects if it could not listen. */
  readonly finished: Promise<void>;
  /** Stops accepting, lets in-flight requests finish, closes connections. */
  shutdown(): Promise<void>;
}
