import { transport } from "../transport/mod.ts";
import type { Addr, Conn, Listener, ListenOptions } from "../transport/types.ts";
import { resolveConfig, type ServerConfig } from "./config.ts";
import { Connection, type ConnectionOwner } from "./connection.ts";
import { FastCGIAbortError } from "./abort_error.ts";
import { RateLimitedLog } from "./log.ts";
import { allowListFromEnv, peerFilter } from "./peer_filter.ts";
import type {
  FastCGIHandler,
  FastCGIServeInit,
  FastCGIServeOptions,
  FastCGIServer,
} from "./types.ts";

const SWEEP_MS = 1000;
/** Refusals at maxConnections are logged at most this often (ms). */
const REFUSAL_LOG_MS = 10_000;
const DEFAULT_PORT = 9000;
const DEFAULT_HOSTNAME = "127.0.0.1";

/** `detected`: fd 0 was picked only because it is a socket; it may not be a listening one. */
type Target = ListenOptions & { inherited: boolean; detected?: boolean };

/** listen() errors that mean "this fd is a socket, but not one to listen on". */
const NOT_LISTENING = new Set(["EINVAL", "ENOTSOCK", "EOPNOTSUPP"]);

/** Where to listen when the options do not say: systemd, then fd 0, then 127.0.0.1:9000. */
function chooseAddress(options: FastCGIServeOptions): Target {
  if (options.path !== undefined) {
    return { path: options.path, mode: options.mode, inherited: false };
  }
  if (options.port !== undefined || options.hostname !== undefined) {
    return {
      hostname: options.hostname ?? DEFAULT_HOSTNAME,
      port: options.port ?? DEFAULT_PORT,
      inherited: false,
    };
  }
  if (options.fd !== undefined) return { fd: options.fd, inherited: true };
  const listenPid = transport.env("LISTEN_PID");
  const listenFds = Number(transport.env("LISTEN_FDS") ?? "0");
  if (listenPid !== undefined && Number(listenPid) === transport.pid() && listenFds >= 1) {
    return { fd: 3, inherited: true };
  }
  if (transport.isSocket(0)) return { fd: 0, inherited: true, detected: true };
  return { hostname: DEFAULT_HOSTNAME, port: DEFAULT_PORT, inherited: false };
}

/** "a connection", or "N connections since the last such line". */
function connections(count: number): string {
  return count === 1 ? "a connection" : `${count} connections since the last such line`;
}

function describe(addr: Addr): string {
  if (addr.transport === "unix") return `unix:${addr.path}`;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${host}:${addr.port}`;
}

class Server implements FastCGIServer, ConnectionOwner {
  readonly config: ServerConfig;
  readonly #listening: Promise<Addr>;
  readonly finished: Promise<void>;
  activeRequests = 0;
  now = Date.now();
  #shuttingDown = false;
  #listener: Listener | null = null;
  #connections = new Set<Connection>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #finish: () => void = () => {};
  #shutdownTimer: ReturnType<typeof setTimeout> | undefined;
  #shutdownTimeout: number | undefined;
  #allow: ((address: string) => boolean) | null;
  // The web server sees a refused connection as a 502: say why here, but
  // not once per connection, or a flood floods the log.
  #fullRefusals = new RateLimitedLog(REFUSAL_LOG_MS);
  #peerRefusals = new RateLimitedLog(REFUSAL_LOG_MS);
  #shutdownPromise: Promise<void> | undefined;

  constructor(options: FastCGIServeOptions, handler: FastCGIHandler) {
    this.config = resolveConfig(options, handler, transport.fdLimit);
    this.#shutdownTimeout = options.shutdownTimeout;
    this.#allow = peerFilter(
      options.allowedAddresses !== undefined
        ? options.allowedAddresses
        : allowListFromEnv(transport.env("FCGI_WEB_SERVER_ADDRS")),
    );
    let target = chooseAddress(options);
    let finishError: (error: unknown) => void = () => {};
    this.finished = new Promise<void>((resolve, reject) => {
      this.#finish = resolve;
      finishError = reject;
    });
    const accept = (conn: Conn) => this.#accept(conn);
    this.#listening = transport.listen(target, accept).catch((error) => {
      // A connected socket on fd 0 (a parent's socketpair as stdin) is not a
      // web server's listening socket: fall back to the default address.
      if (!target.detected || !NOT_LISTENING.has(error?.code)) throw error;
      target = { hostname: DEFAULT_HOSTNAME, port: DEFAULT_PORT, inherited: false };
      return transport.listen(target, accept);
    }).then(
      (listener) => {
        this.#listener = listener;
        if (this.#shuttingDown) {
          this.#close();
          return listener.addr;
        }
        this.#sweep = setInterval(() => this.#tick(), SWEEP_MS);
        (this.#sweep as { unref?: () => void }).unref?.();
        const onListen = options.onListen ??
          (target.inherited ? () => {} : (addr: Addr) => {
            try {
              console.error(`webfcgi: listening on ${describe(addr)}`);
            } catch { /* stderr closed */ }
          });
        onListen(listener.addr);
        return listener.addr;
      },
      (error) => {
        const where = target.path ??
          (target.fd !== undefined ? `fd ${target.fd}` : `${target.hostname}:${target.port}`);
        const failure = new Error(
          `webfcgi: cannot listen on ${where}: ${error?.message ?? error}`,
          {
            cause: error,
          },
        );
        finishError(failure);
        throw failure;
      },
    );
    // Awaiting `listening` is optional; a bind failure surfaces on `finished`.
    this.#listening.catch(() => {});
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.shutdown();
      else signal.addEventListener("abort", () => this.shutdown(), { once: true });
    }
  }

  /**
   * Resolves with the address once listening. Whoever looks at it also
   * handles a bind failure, so `finished` rejecting too is not reported as
   * an unhandled rejection; nobody looking, it is (the process stops).
   */
  get listening(): Promise<Addr> {
    this.finished.catch(() => {});
    return this.#listening;
  }

  get addr(): Addr {
    if (this.#listener === null) {
      throw new Error("the server is not listening yet: await server.listening or use onListen");
    }
    return this.#listener.addr;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  #accept(conn: Conn): void {
    if (this.#shuttingDown) {
      conn.destroy();
      return;
    }
    if (this.#connections.size >= this.config.maxConnections) {
      conn.destroy();
      this.#fullRefusals.log((count) =>
        `refused ${connections(count)}: maxConnections (${this.config.maxConnections}) are open`
      );
      return;
    }
    const remote = conn.remoteAddr;
    if (this.#allow !== null && remote.transport === "tcp" && !this.#allow(remote.hostname)) {
      conn.destroy();
      this.#peerRefusals.log((count) =>
        count === 1
          ? `refused a connection from ${remote.hostname} (not in FCGI_WEB_SERVER_ADDRS)`
          : `refused ${connections(count)} from addresses not in FCGI_WEB_SERVER_ADDRS ` +
            `(the last from ${remote.hostname})`
      );
      return;
    }
    this.#connections.add(new Connection(conn, this));
  }

  #tick(): void {
    this.now = Date.now();
    for (const connection of this.#connections) connection.sweep(this.now);
  }

  closed(connection: Connection): void {
    this.#connections.delete(connection);
    this.#checkFinished();
  }

  requestFinished(): void {
    if (this.#shuttingDown) this.#checkFinished();
  }

  #checkFinished(): void {
    if (!this.#shuttingDown || this.#connections.size > 0) return;
    this.#close();
  }

  #close(): void {
    clearInterval(this.#sweep);
    clearTimeout(this.#shutdownTimer);
    const listener = this.#listener;
    if (listener === null) return;
    listener.close().then(() => this.#finish(), () => this.#finish());
  }

  shutdown(): Promise<void> {
    if (this.#shutdownPromise !== undefined) return this.#shutdownPromise;
    this.#shuttingDown = true;
    this.#shutdownPromise = this.#listening.then(
      () => {
        // Stop accepting now; node's close callback waits for connections, so don't await it here.
        this.#listener?.close();
        for (const connection of this.#connections) connection.endIfIdle();
        const deadline = this.#shutdownTimeout;
        if (deadline !== undefined && this.#connections.size > 0) {
          this.#shutdownTimer = setTimeout(() => {
            const reason = new FastCGIAbortError("server shutdown deadline passed");
            for (const connection of this.#connections) connection.abortAll(reason);
          }, deadline);
        }
        this.#checkFinished();
        return this.finished;
      },
      () => {},
    );
    return this.#shutdownPromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/**
 * Serves a fetch handler over FastCGI.
 *
 * Call it with a handler, with options and a handler, or with one object
 * holding the options and `handler` (or `fetch`, as `deno serve` and Bun
 * take a module's default export).
 *
 * @example
 * ```ts
 * import { serveFastCGI } from "@webfcgi/webfcgi";
 *
 * const server = serveFastCGI({ hostname: "127.0.0.1", port: 0 }, (request) => {
 *   return new Response(`you asked for ${new URL(request.url).pathname}\n`);
 * });
 * const addr = await server.listening;
 * console.log(addr.transport); // tcp
 * await server.shutdown();
 * ```
 */
export function serveFastCGI(handler: FastCGIHandler): FastCGIServer;
/**
 * Serves a fetch handler over FastCGI, with options.
 *
 * @example
 * ```ts
 * import { serveFastCGI } from "@webfcgi/webfcgi";
 * const server = serveFastCGI({ path: "/tmp/webfcgi-doc.sock", onListen() {} }, () => new Response("hi"));
 * await server.shutdown();
 * ```
 */
export function serveFastCGI(options: FastCGIServeOptions, handler: FastCGIHandler): FastCGIServer;
/**
 * Serves over FastCGI from one object: options plus `handler` or `fetch`.
 *
 * @example
 * ```ts
 * import { serveFastCGI } from "@webfcgi/webfcgi";
 * const app = { fetch: (_request: Request) => new Response("hi") };
 * const server = serveFastCGI({ port: 0, onListen() {}, ...app });
 * await server.shutdown();
 * ```
 */
export function serveFastCGI(init: FastCGIServeInit): FastCGIServer;
export function serveFastCGI(
  a: FastCGIHandler | FastCGIServeOptions | FastCGIServeInit,
  b?: FastCGIHandler,
): FastCGIServer {
  if (typeof a === "function") return new Server({}, a);
  if (typeof b === "function") return new Server(a, b);
  const init = a as FastCGIServeInit;
  const handler = init.handler ?? init.fetch;
  if (typeof handler !== "function") {
    throw new TypeError("serveFastCGI needs a handler: a function, or { handler } or { fetch }");
  }
  // A `{ fetch }` object is called as a method, so `this` works in it.
  const bound: FastCGIHandler = init.handler ?? ((request, info) => init.fetch!(request, info));
  return new Server(init, bound);
}
