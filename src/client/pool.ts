import {
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MPXS_CONNS,
  ProtocolStatus,
} from "../protocol/constants.ts";
import type { Conn, ConnectOptions } from "../transport/types.ts";
import type { Call } from "./call.ts";
import { ClientConnection, type ConnectionOwner } from "./connection.ts";
import { FastCGIClientError, FastCGIConnectionError } from "./errors.ts";

/** Resolved pool settings. */
export interface PoolOptions {
  maxConnections: number;
  /** Ms an idle connection stays open; 0 closes it as soon as it is idle. */
  idleTimeout: number;
  /** Ms to wait for a connection; 0 waits as long as the system does. */
  connectTimeout: number;
  /** undefined: ask the server once with FCGI_GET_VALUES. */
  multiplex: boolean | undefined;
}

/** Opens a transport connection. */
export type Connector = (target: ConnectOptions) => Promise<Conn>;

/** How long the GET_VALUES probe waits for an answer before assuming no multiplexing. */
const PROBE_TIMEOUT = 2000;
/** Request ids available on one connection. */
const MAX_REQUEST_IDS = 0xffff;

function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

function positive(value: string | undefined): number | undefined {
  const number = Number(value);
  return value !== undefined && value !== "" && Number.isInteger(number) && number > 0
    ? number
    : undefined;
}

/**
 * The connections of one client to one server, and the queue of requests
 * waiting for one. Not multiplexed, each connection carries one request at
 * a time and up to `maxConnections` are open; multiplexed, one connection
 * carries them all (up to the server's FCGI_MAX_REQS).
 */
export class Pool implements ConnectionOwner {
  readonly address: string;
  #target: ConnectOptions;
  #connect: Connector;
  #options: PoolOptions;
  #connections = new Set<ClientConnection>();
  #opening = 0;
  #queue: Call[] = [];
  #multiplex: boolean | undefined;
  #probing = false;
  #maxConnections: number;
  #maxRequests = MAX_REQUEST_IDS;
  #idle = new Map<ClientConnection, ReturnType<typeof setTimeout>>();
  #closing = false;
  #closed: Promise<void> | null = null;
  #resolveClosed: () => void = () => {};

  constructor(target: ConnectOptions, address: string, options: PoolOptions, connect: Connector) {
    this.#target = target;
    this.address = address;
    this.#options = options;
    this.#connect = connect;
    this.#multiplex = options.multiplex;
    this.#maxConnections = options.maxConnections;
  }

  /** Queues `call`; it starts as soon as a connection can take it. */
  dispatch(call: Call): void {
    if (this.#closing) {
      call.abort(new FastCGIClientError("the client is closed", this.address));
      return;
    }
    call.onAbandon = () => this.#drop(call);
    this.#queue.push(call);
    this.#pump();
  }

  /** A queued call was aborted: forget it. */
  #drop(call: Call): void {
    const at = this.#queue.indexOf(call);
    if (at >= 0) this.#queue.splice(at, 1);
    this.#checkClosed();
  }

  #pump(): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    if (this.#multiplex === undefined) {
      if (!this.#probing) this.#probe();
      return;
    }
    while (queue.length > 0) {
      const connection = this.#available();
      if (connection === null) break;
      const call = queue.shift()!;
      call.onAbandon = null;
      call.retry = connection.served > 0 ? () => this.#requeue(call) : null;
      this.#busy(connection);
      connection.send(call);
    }
    if (queue.length === 0) return;
    let live = this.#opening;
    for (const connection of this.#connections) if (connection.usable) live++;
    const limit = this.#multiplex ? 1 : this.#maxConnections;
    let wanted = (this.#multiplex ? 1 : queue.length) - this.#opening;
    while (wanted > 0 && live < limit) {
      this.#open();
      live++;
      wanted--;
    }
  }

  /** Puts a call whose kept connection was found closed back at the head of the queue. */
  #requeue(call: Call): void {
    call.onAbandon = () => this.#drop(call);
    this.#queue.unshift(call);
    queueMicrotask(() => this.#pump());
  }

  #available(): ClientConnection | null {
    for (const connection of this.#connections) {
      if (!connection.usable) continue;
      const active = connection.activeCalls;
      if (connection.multiplexed ? active < this.#maxRequests : active === 0) return connection;
    }
    return null;
  }

  #connectConn(): Promise<Conn> {
    const timeout = this.#options.connectTimeout;
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = timeout > 0
        ? setTimeout(() => {
          timedOut = true;
          reject(new Error(`no connection within ${timeout} ms`));
        }, timeout)
        : undefined;
      this.#connect(this.#target).then(
        (conn) => {
          clearTimeout(timer);
          if (timedOut) conn.destroy();
          else resolve(conn);
        },
        (error) => {
          clearTimeout(timer);
          if (!timedOut) reject(error);
        },
      );
    });
  }

  #connectError(error: unknown): FastCGIConnectionError {
    const reason = (error as Error)?.message ?? String(error);
    return new FastCGIConnectionError(
      `cannot connect to the FastCGI server: ${reason}`,
      this.address,
      {
        cause: error,
      },
    );
  }

  #open(): void {
    this.#opening++;
    this.#connectConn().then(
      (conn) => {
        this.#opening--;
        const connection = new ClientConnection(conn, this.address, this.#multiplex === true, this);
        this.#connections.add(connection);
        this.#pump();
        this.#markIdle(connection);
      },
      (error) => {
        this.#opening--;
        // Other connections may still serve the queue; with none, it fails.
        if (this.#connections.size === 0 && this.#opening === 0) {
          this.#failQueue(this.#connectError(error));
        }
        this.#checkClosed();
      },
    );
  }

  /** Asks the server once whether it multiplexes, on the first connection. */
  #probe(): void {
    this.#probing = true;
    this.#connectConn().then(
      async (conn) => {
        const connection = new ClientConnection(conn, this.address, false, null);
        const values = await connection.getValues(
          [FCGI_MPXS_CONNS, FCGI_MAX_CONNS, FCGI_MAX_REQS],
          PROBE_TIMEOUT,
        );
        this.#probing = false;
        const multiplex = values?.get(FCGI_MPXS_CONNS) === "1";
        const maxConns = positive(values?.get(FCGI_MAX_CONNS));
        if (maxConns !== undefined) {
          this.#maxConnections = Math.min(this.#maxConnections, maxConns);
        }
        const maxReqs = positive(values?.get(FCGI_MAX_REQS));
        if (maxReqs !== undefined) this.#maxRequests = Math.min(MAX_REQUEST_IDS, maxReqs);
        this.#multiplex = multiplex;
        // PHP-FPM closes the connection after answering: only a multiplexing
        // server's connection is kept for requests.
        if (multiplex && connection.usable) {
          connection.multiplexed = true;
          connection.adopt(this);
          this.#connections.add(connection);
        } else {
          connection.end();
        }
        this.#pump();
        if (this.#connections.has(connection)) this.#markIdle(connection);
        this.#checkClosed();
      },
      (error) => {
        this.#probing = false;
        this.#failQueue(this.#connectError(error));
        this.#checkClosed();
      },
    );
  }

  #failQueue(error: FastCGIClientError): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const call of queue) {
      call.onAbandon = null;
      call.abort(error);
    }
  }

  #busy(connection: ClientConnection): void {
    const timer = this.#idle.get(connection);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#idle.delete(connection);
  }

  #markIdle(connection: ClientConnection): void {
    if (connection.activeCalls > 0 || this.#idle.has(connection)) return;
    if (!connection.usable) return;
    const timeout = this.#options.idleTimeout;
    if (this.#closing || timeout <= 0) {
      connection.end();
      return;
    }
    const timer = setTimeout(() => {
      this.#idle.delete(connection);
      if (connection.activeCalls === 0) connection.end();
    }, timeout);
    unref(timer);
    this.#idle.set(connection, timer);
  }

  // --- ConnectionOwner ---

  released(connection: ClientConnection, protocolStatus: number): void {
    if (protocolStatus === ProtocolStatus.CANT_MPX_CONN && this.#multiplex) {
      this.#multiplex = false;
      for (const each of this.#connections) each.multiplexed = false;
    }
    this.#pump();
    this.#markIdle(connection);
  }

  closed(connection: ClientConnection): void {
    this.#busy(connection);
    this.#connections.delete(connection);
    this.#pump();
    this.#checkClosed();
  }

  // --- closing ---

  /** Takes no new requests; resolves once queued and in-flight ones are done and every connection is closed. */
  close(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#closing = true;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    for (const connection of this.#connections) {
      if (connection.activeCalls === 0) {
        this.#busy(connection);
        connection.end();
      }
    }
    this.#checkClosed();
    return this.#closed;
  }

  #checkClosed(): void {
    if (!this.#closing) return;
    if (this.#connections.size > 0 || this.#opening > 0 || this.#probing) return;
    if (this.#queue.length > 0) return;
    this.#resolveClosed();
  }
}
