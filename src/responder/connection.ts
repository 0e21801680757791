import {
  FCGI_KEEP_CONN,
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MPXS_CONNS,
  FCGI_NULL_REQUEST_ID,
  ProtocolStatus,
  RecordType,
} from "../protocol/constants.ts";
import { RecordDecoder } from "../protocol/decoder.ts";
import { FastCGIProtocolError } from "../protocol/errors.ts";
import { decodeBeginRequestBody, encodeUnknownTypeBody } from "../protocol/bodies.ts";
import { decodePairs, encodePairs } from "../protocol/pairs.ts";
import { encodeRecord, type FastCGIRecord } from "../protocol/record.ts";
import type { Conn } from "../transport/types.ts";
import type { ServerConfig } from "./config.ts";
import { FastCGIAbortError } from "./abort_error.ts";
import { Exchange, type ExchangeHost } from "./exchange.ts";
import { BODY_HIGH_WATER_MARK } from "./input_stream.ts";
import { logError } from "./log.ts";
import { endRecords } from "./records_out.ts";

/** Ms a request may leave its body unread before a connection it holds alone reads ahead. */
const READ_AHEAD_AFTER_MS = 1000;

/** What a connection shares with its server: limits, counters, the clock. */
export interface ConnectionOwner {
  readonly config: ServerConfig;
  /** Requests in flight over all connections. */
  activeRequests: number;
  /** True once shutdown began: no new requests. */
  readonly shuttingDown: boolean;
  /** Coarse clock (ms), refreshed by the server's sweep. */
  readonly now: number;
  /** The connection closed. */
  closed(connection: Connection): void;
  /** A request finished (for shutdown bookkeeping). */
  requestFinished(): void;
}

/**
 * One web-server connection: records in, exchanges dispatched, records out.
 * A protocol error closes this connection only.
 */
export class Connection implements ExchangeHost {
  readonly config: ServerConfig;
  #conn: Conn;
  #owner: ConnectionOwner;
  // Bodies in pieces as they arrive: no buffer per record split across reads.
  #decoder = new RecordDecoder({ pieces: true });
  #exchanges = new Map<number, Exchange>();
  #ready: Exchange[] = [];
  /** Exchanges that got PARAMS from the chunk being decoded. */
  #gotParams: Exchange[] = [];
  #blocked = new Set<Exchange>();
  /** A reply no handler paces found the socket full: reading waits for drain. */
  #awaitingDrain = false;
  #paused = false;
  /** The web server has shown it multiplexes: asked for FCGI_MPXS_CONNS, or sent two requests at once. */
  #multiplexed = false;
  #drainWaiters: Array<() => void> = [];
  #closed = false;
  #ending = false;
  #idleSince: number;

  constructor(conn: Conn, owner: ConnectionOwner) {
    this.#conn = conn;
    this.#owner = owner;
    this.config = owner.config;
    // Timestamps are exact: the sweep's clock can be a second old, which
    // would make a short idle or params timeout fire early.
    this.#idleSince = Date.now();
    conn.start({
      data: (chunk) => this.#onData(chunk),
      drain: () => this.#wakeWriters(),
      close: () => this.#onClose(),
    });
  }

  /** Requests in flight on this connection. */
  get activeRequests(): number {
    return this.#exchanges.size;
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#decoder.push(chunk, this.#onRecord);
    } catch (error) {
      this.#protocolFailure(error);
      return;
    }
    const gotParams = this.#gotParams;
    if (gotParams.length > 0) {
      this.#gotParams = [];
      for (const exchange of gotParams) exchange.keepParams();
    }
    // Handlers start after the whole chunk is decoded, so a body that came
    // with its params is handed over as bytes instead of a stream.
    const ready = this.#ready;
    if (ready.length > 0) {
      this.#ready = [];
      for (const exchange of ready) exchange.start();
    }
  }

  #protocolFailure(error: unknown): void {
    logError("closing a connection after malformed input", error);
    this.#destroy(new FastCGIAbortError("malformed input from the web server"));
  }

  #onRecord = (record: FastCGIRecord): void => {
    const id = record.requestId;
    if (id === FCGI_NULL_REQUEST_ID) return this.#management(record);
    const exchange = this.#exchanges.get(id);
    switch (record.type) {
      case RecordType.BEGIN_REQUEST:
        if (exchange !== undefined) {
          throw new FastCGIProtocolError("BEGIN_REQUEST for an active request id", {
            context: "connection",
            requestId: id,
            recordType: record.type,
          });
        }
        return this.#begin(id, record.content);
      case RecordType.ABORT_REQUEST:
        exchange?.abort(new FastCGIAbortError("FCGI_ABORT_REQUEST from the web server"), true);
        return;
      case RecordType.PARAMS:
        if (exchange === undefined) return;
        if (exchange.params(record.content)) this.#ready.push(exchange);
        else this.#gotParams.push(exchange);
        return;
      case RecordType.STDIN:
        exchange?.stdin(record.content);
        return;
      case RecordType.DATA:
        exchange?.data(record.content);
        return;
      default:
        // Records for inactive ids are ignored (spec 3.3); for an active
        // one, a type a web server never sends means we lost the framing.
        if (exchange === undefined) return;
        throw new FastCGIProtocolError(`unexpected record type ${record.type}`, {
          context: "connection",
          requestId: id,
          recordType: record.type,
        });
    }
  };

  #begin(id: number, content: Uint8Array): void {
    const { role, flags } = decodeBeginRequestBody(content);
    const keepConn = (flags & FCGI_KEEP_CONN) !== 0;
    let refusal: number | undefined;
    if (role < 1 || role > 3) refusal = ProtocolStatus.UNKNOWN_ROLE;
    else if (!this.config.multiplex && this.#exchanges.size > 0) {
      refusal = ProtocolStatus.CANT_MPX_CONN;
    } else if (
      this.#owner.shuttingDown || this.#owner.activeRequests >= this.config.maxRequests
    ) refusal = ProtocolStatus.OVERLOADED;
    if (refusal !== undefined) {
      this.reply(endRecords(id, 0, refusal, false));
      if (!keepConn && this.#exchanges.size === 0) this.#end();
      return;
    }
    const exchange = new Exchange(this, id, role, keepConn, Date.now());
    this.#exchanges.set(id, exchange);
    this.#owner.activeRequests++;
    if (this.#exchanges.size > 1) this.#setMultiplexed();
  }

  /**
   * From now on a request's unread body may hold maxUnreadBody before it
   * pauses the connection, so that the other requests on it go on.
   */
  #setMultiplexed(): void {
    if (this.#multiplexed) return;
    this.#multiplexed = true;
    for (const exchange of this.#blocked) exchange.readAhead(this.config.maxUnreadBody);
  }

  #management(record: FastCGIRecord): void {
    if (record.type !== RecordType.GET_VALUES) {
      this.reply(encodeRecord(RecordType.UNKNOWN_TYPE, 0, encodeUnknownTypeBody(record.type)));
      return;
    }
    const known: Record<string, string> = {
      [FCGI_MAX_CONNS]: String(this.config.maxConnections),
      [FCGI_MAX_REQS]: String(this.config.maxRequests),
      [FCGI_MPXS_CONNS]: this.config.multiplex ? "1" : "0",
    };
    // Each name answered once: the answer stays three pairs long, however
    // often a name is asked.
    const answer = new Map<string, string>();
    for (const [name] of decodePairs(record.content)) {
      if (Object.hasOwn(known, name)) answer.set(name, known[name]);
      // A peer that asks whether we multiplex is one that will.
      if (name === FCGI_MPXS_CONNS && this.config.multiplex) this.#setMultiplexed();
    }
    this.reply(encodeRecord(RecordType.GET_VALUES_RESULT, 0, encodePairs(answer)));
  }

  // --- ExchangeHost ---

  write(bytes: Uint8Array): boolean {
    if (this.#closed) return true;
    return this.#conn.write(bytes);
  }

  reply(bytes: Uint8Array): void {
    if (this.write(bytes) || this.#awaitingDrain || this.#closed) return;
    this.#awaitingDrain = true;
    this.#updatePause();
    this.drained().then(() => {
      this.#awaitingDrain = false;
      this.#updatePause();
    });
  }

  drained(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #wakeWriters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const wake of waiters) wake();
  }

  bodyLimit(): number {
    return this.#multiplexed ? this.config.maxUnreadBody : BODY_HIGH_WATER_MARK;
  }

  block(exchange: Exchange, blocked: boolean): void {
    if (blocked) this.#blocked.add(exchange);
    else this.#blocked.delete(exchange);
    this.#updatePause();
  }

  /** Reads while no request body blocks and no unpaced reply waits for drain. */
  #updatePause(): void {
    const pause = this.#blocked.size > 0 || this.#awaitingDrain;
    if (pause === this.#paused || this.#closed || this.#ending) return;
    this.#paused = pause;
    if (pause) this.#conn.pause();
    else this.#conn.resume();
  }

  finished(exchange: Exchange): void {
    if (this.#exchanges.get(exchange.id) === exchange) this.#exchanges.delete(exchange.id);
    this.#blocked.delete(exchange);
    this.#updatePause();
    this.#owner.activeRequests--;
    this.#owner.requestFinished();
    if (this.#closed) return;
    if (this.#exchanges.size === 0) {
      this.#idleSince = Date.now();
      if (!exchange.keepConn || this.#owner.shuttingDown) this.#end();
    }
  }

  // --- lifecycle ---

  /** Closes after the last record is sent (FCGI_KEEP_CONN clear, or shutdown). */
  #end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    this.#conn.end();
  }

  /** Ends the connection now if it has no request in flight; returns whether it did. */
  endIfIdle(): boolean {
    if (this.#exchanges.size > 0) return false;
    this.#end();
    return true;
  }

  /** Checks the params, idle and body stall deadlines; called by the server's sweep. */
  sweep(now: number): void {
    if (this.#closed || this.#ending) return;
    if (this.#exchanges.size === 0) {
      const idle = this.config.idleTimeout;
      if (idle > 0 && now - this.#idleSince >= idle) this.#end();
      return;
    }
    for (const exchange of this.#exchanges.values()) {
      if (!exchange.paramsDone && now >= exchange.paramsDeadline) {
        logError(`request ${exchange.id}: params did not arrive within paramsTimeout; closing`);
        this.#destroy(new FastCGIAbortError("params timeout"));
        return;
      }
      if (exchange.blockedSince !== 0) this.#stalled(exchange, now - exchange.blockedSince);
    }
  }

  /**
   * A request whose unread body has paused this connection for `ms`. Alone
   * on its connection it may wait (TCP backpressure), but reads ahead to
   * maxUnreadBody so that the web server leaving is still seen; on a
   * multiplexed connection it holds up the others, so past
   * bodyStallTimeout it is aborted and the connection reads on.
   */
  #stalled(exchange: Exchange, ms: number): void {
    if (!this.#multiplexed) {
      if (ms >= READ_AHEAD_AFTER_MS) exchange.readAhead(this.config.maxUnreadBody);
      return;
    }
    const timeout = this.config.bodyStallTimeout;
    if (timeout === 0 || ms < timeout) return;
    logError(
      `request ${exchange.id}: aborted: its body stayed unread past maxUnreadBody for ` +
        `bodyStallTimeout (${timeout} ms) on a multiplexed connection`,
    );
    exchange.abort(
      new FastCGIAbortError("the request body stayed unread past bodyStallTimeout"),
      true,
    );
  }

  /** Aborts every request on this connection (shutdown deadline). */
  abortAll(reason: FastCGIAbortError): void {
    for (const exchange of [...this.#exchanges.values()]) exchange.abort(reason, true);
  }

  #destroy(reason: FastCGIAbortError): void {
    if (this.#closed) return;
    this.#abortExchanges(reason);
    this.#conn.destroy();
  }

  #abortExchanges(reason: FastCGIAbortError): void {
    const exchanges = [...this.#exchanges.values()];
    this.#closed = true;
    for (const exchange of exchanges) exchange.abort(reason, false);
    this.#exchanges.clear();
    this.#wakeWriters();
  }

  #onClose(): void {
    if (!this.#closed) {
      this.#abortExchanges(new FastCGIAbortError("connection closed by the web server"));
    }
    this.#wakeWriters();
    this.#owner.closed(this);
  }
}
