/**
 * The address a server listens on, or the TCP peer of a connection.
 *
 * @example
 * ```ts
 * import type { NetAddr } from "@webfcgi/webfcgi";
 * const addr: NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 9000 };
 * ```
 */
export interface NetAddr {
  /** Always "tcp". */
  transport: "tcp";
  /** IPv4 or IPv6 address (IPv6 without brackets). */
  hostname: string;
  /** Port number. */
  port: number;
}

/**
 * A Unix domain socket address.
 *
 * @example
 * ```ts
 * import type { UnixAddr } from "@webfcgi/webfcgi";
 * const addr: UnixAddr = { transport: "unix", path: "/run/app.sock" };
 * ```
 */
export interface UnixAddr {
  /** Always "unix". */
  transport: "unix";
  /** Filesystem path of the socket ("" when unnamed). */
  path: string;
}

/**
 * Any listening or peer address.
 *
 * @example
 * ```ts
 * import type { Addr } from "@webfcgi/webfcgi";
 * const addr: Addr = { transport: "unix", path: "/run/app.sock" };
 * ```
 */
export type Addr = NetAddr | UnixAddr;

/** What a connection reports upwards. */
export interface ConnHandlers {
  /** Bytes arrived. The chunk is owned by the receiver. */
  data(chunk: Uint8Array): void;
  /** The socket can take more after a write returned false. */
  drain(): void;
  /** The connection is gone (peer closed, reset, or destroyed); called once. */
  close(error?: Error): void;
}

/** One accepted connection, as the responder sees it. */
export interface Conn {
  /** The peer: a TCP address, or a Unix address. */
  readonly remoteAddr: Addr;
  /** Starts delivering events. */
  start(handlers: ConnHandlers): void;
  /** Stops reading from the socket (backpressure). */
  pause(): void;
  /** Resumes reading. */
  resume(): void;
  /**
   * Queues bytes; writes made in the same turn of the event loop leave in
   * one syscall. Returns false when the socket is full: wait for drain.
   */
  write(bytes: Uint8Array): boolean;
  /** Sends what is queued, then FIN; discards input until the peer closes. */
  end(): void;
  /** Closes at once; queued bytes are dropped. */
  destroy(): void;
}

/** Where to listen. Exactly one of fd, path or port/hostname applies. */
export interface ListenOptions {
  hostname?: string;
  port?: number;
  path?: string;
  /** Permissions of a Unix socket file. */
  mode?: number;
  /** An inherited listening socket (0 under spawn-fcgi, 3 under systemd). */
  fd?: number;
}

/** A listening socket. */
export interface Listener {
  /** The bound address. */
  readonly addr: Addr;
  /** Stops accepting; resolves once the socket is closed. */
  close(): Promise<void>;
}

/** Where a client connects: a Unix socket path, or a TCP host and port. */
export type ConnectOptions = { path: string } | { hostname: string; port: number };

/** The surface every runtime shim provides. */
export interface Transport {
  listen(
    options: ListenOptions,
    onConn: (conn: Conn) => void,
  ): Promise<Listener>;
  /** Opens a client connection; rejects when the peer cannot be reached. */
  connect(options: ConnectOptions): Promise<Conn>;
  /** True when `fd` is an open socket (used to detect FCGI_LISTENSOCK_FILENO). */
  isSocket(fd: number): boolean;
  /** Environment variable, or undefined. */
  env(name: string): string | undefined;
  /** This process's id. */
  pid(): number;
  /** The soft limit on open file descriptors, or undefined when unknown. */
  fdLimit(): number | undefined;
}
