import { Role } from "../protocol/constants.ts";
import { transport } from "../transport/mod.ts";
import { describeAddress, parseAddress } from "./address.ts";
import { bodyLength, prepareBody } from "./body.ts";
import { Call } from "./call.ts";
import { requestParams } from "./params.ts";
import { Pool } from "./pool.ts";
import type { FastCGIAddress, FastCGIClientOptions, FastCGIRequestInit } from "./types.ts";

const DEFAULT_MAX_CONNECTIONS = 8;
const DEFAULT_IDLE_TIMEOUT = 5000;
const DEFAULT_CONNECT_TIMEOUT = 10000;
const ROLES = { responder: Role.RESPONDER, authorizer: Role.AUTHORIZER, filter: Role.FILTER };
// The keys of FastCGIRequestInit and FastCGIFetchInit that RequestInit lacks.
const FASTCGI_INIT_KEYS = new Set([
  "params",
  "bufferBody",
  "role",
  "data",
  "onStderr",
  "connectTimeout",
]);
const encoder = new TextEncoder();

function limit(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!(value >= min) || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a number >= ${min}, got ${value}`);
  }
  return value;
}

function roleNumber(role: FastCGIRequestInit["role"]): number {
  if (role === undefined) return Role.RESPONDER;
  if (typeof role === "number") {
    if (!Number.isInteger(role) || role < 0 || role > 0xffff) {
      throw new RangeError(`role must be an integer from 0 to 65535, got ${role}`);
    }
    return role;
  }
  const number = ROLES[role];
  if (number === undefined) throw new TypeError(`unknown role ${JSON.stringify(role)}`);
  return number;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

/** The standard `Request` for fetch-style arguments, and the standard part of `init`. */
function toRequest(input: Request | string | URL, init: FastCGIRequestInit | undefined): {
  request: Request;
  body: BodyInit | null | undefined;
} {
  if (init === undefined) {
    return { request: input instanceof Request ? input : new Request(input), body: undefined };
  }
  const standard: RequestInit & { duplex?: "half" } = {};
  let any = false;
  for (const key of Object.keys(init) as Array<keyof FastCGIRequestInit>) {
    if (FASTCGI_INIT_KEYS.has(key) || init[key] === undefined) continue;
    (standard as Record<string, unknown>)[key] = init[key];
    any = true;
  }
  if (!any && input instanceof Request) return { request: input, body: undefined };
  if (standard.body instanceof ReadableStream && standard.duplex === undefined) {
    standard.duplex = "half";
  }
  return { request: new Request(input, standard), body: standard.body };
}

/**
 * A FastCGI client with a connection pool, whose API is `fetch`: send a
 * standard `Request` to PHP-FPM or any FastCGI application, get a streaming
 * `Response` back.
 *
 * The request becomes CGI params the way nginx's stock `fastcgi_params`
 * sends them (REQUEST_METHOD, REQUEST_URI, QUERY_STRING, SCRIPT_NAME,
 * SERVER_*, REMOTE_*, HTTPS, CONTENT_TYPE, CONTENT_LENGTH, HTTP_* for every
 * header); `params` adds or overrides (SCRIPT_FILENAME, DOCUMENT_ROOT, ...).
 * The body streams as FCGI_STDIN with backpressure. A body of unknown
 * length (a stream without Content-Length) goes without CONTENT_LENGTH,
 * which PHP-FPM reads as empty (php/php-src#7509): give the body as a
 * string, bytes, URLSearchParams, FormData or Blob, or set `bufferBody`.
 *
 * The response's `Status` header sets the status (default 200); every other
 * header is kept, Set-Cookie one by one. A `Location` with an absolute URL
 * and no Status gives 302. A local redirect (`Location: /path`, no Status)
 * is returned as is with status 200: a web server would restart the request
 * internally at that path, a client leaves that to the caller. FCGI_STDERR
 * goes to `onStderr`. END_REQUEST refusals become
 * {@linkcode FastCGIOverloadedError}, {@linkcode FastCGIUnknownRoleError} or
 * {@linkcode FastCGICantMultiplexError}, connection failures
 * {@linkcode FastCGIConnectionError}: all are {@linkcode FastCGIClientError}s.
 *
 * Connections are kept (FCGI_KEEP_CONN) and reused, at most
 * `maxConnections` (default 8; more requests wait), each closed after
 * `idleTimeout` ms unused. Before the first request the client asks the
 * server whether it multiplexes (FCGI_GET_VALUES); if it does, requests
 * share one connection. Aborting the request's signal sends
 * FCGI_ABORT_REQUEST on a multiplexed connection and closes any other, and
 * the fetch rejects (or the body stream errors) with the signal's reason.
 * A response body holds its connection until it is read to the end or
 * cancelled.
 *
 * @example
 * ```ts
 * import { serveFastCGI } from "@webfcgi/webfcgi";
 * import { FastCGIClient } from "@webfcgi/webfcgi/client";
 *
 * await using server = serveFastCGI({ port: 0, onListen() {} }, (request) =>
 *   new Response(`hello ${new URL(request.url).searchParams.get("name")}`));
 * const { port } = (await server.listening) as { port: number };
 *
 * await using client = new FastCGIClient({ hostname: "127.0.0.1", port });
 * const response = await client.fetch("http://localhost/?name=Ada");
 * console.log(response.status, await response.text()); // 200 hello Ada
 * ```
 */
export class FastCGIClient implements AsyncDisposable {
  /** The server, as `unix:/path` or `host:port`. */
  readonly address: string;
  #pool: Pool;
  #options: FastCGIClientOptions;

  /**
   * Creates a client; nothing connects until the first request.
   *
   * @param address a Unix socket path, `{ path }`, `{ hostname, port }`,
   *   `"unix:/path"`, `"host:port"` or `"[::1]:port"`
   * @param options pool size, timeouts, multiplexing, stderr handling
   * @throws {TypeError} on an address of none of these forms
   */
  constructor(address: FastCGIAddress, options: FastCGIClientOptions = {}) {
    const target = parseAddress(address);
    this.address = describeAddress(target);
    this.#options = options;
    this.#pool = new Pool(target, this.address, {
      maxConnections: limit(
        "maxConnections",
        options.maxConnections,
        DEFAULT_MAX_CONNECTIONS,
        1,
      ),
      idleTimeout: limit("idleTimeout", options.idleTimeout, DEFAULT_IDLE_TIMEOUT, 0),
      connectTimeout: limit("connectTimeout", options.connectTimeout, DEFAULT_CONNECT_TIMEOUT, 0),
      multiplex: options.multiplex,
    }, (target) => transport.connect(target));
  }

  /**
   * Sends one request, as `fetch` takes it, and resolves with the response
   * once its header block has arrived; the body streams after.
   *
   * @param input a `Request`, or a URL (the URL's path and query become
   *   REQUEST_URI, its host SERVER_NAME and HTTP_HOST)
   * @param init `RequestInit` fields plus `params`, `bufferBody`, `role`, `data`
   * @throws {FastCGIClientError} (a subclass) when the server cannot be reached or refuses
   * @throws the signal's reason (an AbortError) when aborted
   * @example
   * ```ts
   * import { FastCGIClient } from "@webfcgi/webfcgi/client";
   * const client = new FastCGIClient("unix:/run/php/php8.2-fpm.sock", { bufferBody: true });
   * const post = () =>
   *   client.fetch("http://localhost/form.php", {
   *     method: "POST",
   *     body: new URLSearchParams({ name: "Ada" }),
   *     params: { SCRIPT_FILENAME: "/srv/www/form.php" },
   *   });
   * await client.close();
   * ```
   */
  async fetch(input: Request | string | URL, init?: FastCGIRequestInit): Promise<Response> {
    const { request, body: initBody } = toRequest(input, init);
    const signals = [init?.signal, request.signal, input instanceof Request ? input.signal : null]
      .filter((signal, at, all): signal is AbortSignal =>
        signal instanceof AbortSignal && all.indexOf(signal) === at
      );
    for (const signal of signals) if (signal.aborted) throw abortReason(signal);
    const role = roleNumber(init?.role);
    const data = typeof init?.data === "string" ? encoder.encode(init.data) : init?.data ?? null;
    const body = await prepareBody(
      request,
      initBody,
      init?.bufferBody ?? this.#options.bufferBody ?? false,
    );
    for (const signal of signals) if (signal.aborted) throw abortReason(signal);
    const call = new Call({
      request,
      params: requestParams(
        request,
        { length: bodyLength(body) },
        this.#options.params,
        init?.params,
      ),
      body,
      role,
      data,
      onStderr: this.#options.onStderr ?? null,
      signals,
    });
    this.#pool.dispatch(call);
    return call.response;
  }

  /**
   * Takes no new requests and closes the connections once the requests in
   * flight are done (their response bodies read or cancelled).
   *
   * @example
   * ```ts
   * import { FastCGIClient } from "@webfcgi/webfcgi/client";
   * const client = new FastCGIClient("127.0.0.1:9000");
   * await client.close();
   * ```
   */
  close(): Promise<void> {
    return this.#pool.close();
  }

  /** Same as {@linkcode FastCGIClient.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Options of {@linkcode fetchFastCGI}: the request's, plus the client
 * options that matter for one request.
 *
 * @example
 * ```ts
 * import type { FastCGIFetchInit } from "@webfcgi/webfcgi/client";
 * const init: FastCGIFetchInit = { params: { SCRIPT_FILENAME: "/srv/www/index.php" }, onStderr() {} };
 * ```
 */
export interface FastCGIFetchInit extends FastCGIRequestInit {
  /** Receives FCGI_STDERR text; default: the process's stderr, line by line. */
  onStderr?: (text: string, request: Request) => void;
  /** Ms to wait for the connection. Default 10000. */
  connectTimeout?: number;
}

/**
 * Sends one request to a FastCGI server over a connection of its own,
 * closed once the response has been read: `fetch` for FastCGI. For many
 * requests, a {@linkcode FastCGIClient} reuses connections.
 *
 * @param address a Unix socket path, `{ path }`, `{ hostname, port }`,
 *   `"unix:/path"`, `"host:port"` or `"[::1]:port"`
 * @param input a `Request` or a URL
 * @param init `RequestInit` plus `params`, `bufferBody`, `role`, `data`, `onStderr`, `connectTimeout`
 * @example
 * ```ts
 * import { serveFastCGI } from "@webfcgi/webfcgi";
 * import { fetchFastCGI } from "@webfcgi/webfcgi/client";
 *
 * await using server = serveFastCGI({ port: 0, onListen() {} }, async (request) =>
 *   new Response(await request.text(), { status: 201 }));
 * const { port } = (await server.listening) as { port: number };
 *
 * const response = await fetchFastCGI(`127.0.0.1:${port}`, "http://localhost/echo", {
 *   method: "POST",
 *   body: "ping",
 *   params: { SCRIPT_FILENAME: "/srv/app/echo" },
 * });
 * console.log(response.status, await response.text()); // 201 ping
 * ```
 */
export async function fetchFastCGI(
  address: FastCGIAddress,
  input: Request | string | URL,
  init?: FastCGIFetchInit,
): Promise<Response> {
  const client = new FastCGIClient(address, {
    maxConnections: 1,
    multiplex: false,
    idleTimeout: 0,
    onStderr: init?.onStderr,
    connectTimeout: init?.connectTimeout,
  });
  try {
    return await client.fetch(input, init);
  } finally {
    // Closes the connection once the response body has been read.
    client.close();
  }
}
