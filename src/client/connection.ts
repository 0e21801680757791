import { FCGI_NULL_REQUEST_ID, RecordType } from "../protocol/constants.ts";
import { RecordDecoder } from "../protocol/decoder.ts";
import { decodePairs, encodePairs } from "../protocol/pairs.ts";
import { encodeRecord, type FastCGIRecord } from "../protocol/record.ts";
import type { Conn } from "../transport/types.ts";
import type { Call, CallHost } from "./call.ts";
import { FastCGIResponseError } from "./errors.ts";

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** A call ended: the connection may take another (or is now idle). */
  released(connection: ClientConnection, protocolStatus: number): void;
  /** The connection is gone. */
  closed(connection: ClientConnection): void;
}

const MAX_REQUEST_ID = 0xffff;

/**
 * One connection to the server: records out, records in, dispatched to the
 * calls by request id. Not multiplexed, it carries one call at a time as
 * request id 1 (as nginx does); multiplexed, any number, ids allocated here.
 */
export class ClientConnection implements CallHost {
  readonly address: string;
  multiplexed: boolean;
  #conn: Conn;
  #owner: ConnectionOwner | null;
  #decoder = new RecordDecoder();
  #calls = new Map<number, Call>();
  #nextId = 1;
  #blocked = new Set<Call>();
  #paused = false;
  #drainWaiters: Array<() => void> = [];
  #closed = false;
  #ending = false;
  #reusable = true;
  #values: ((values: Map<string, string> | null) => void) | null = null;

  constructor(conn: Conn, address: string, multiplexed: boolean, owner: ConnectionOwner | null) {
    this.#conn = conn;
    this.address = address;
    this.multiplexed = multiplexed;
    this.#owner = owner;
    conn.start({
      data: (chunk) => this.#onData(chunk),
      drain: () => this.#wakeWriters(),
      close: (error) => this.#onClose(error),
    });
  }

  /** Hands the connection to a pool (after a GET_VALUES probe made without one). */
  adopt(owner: ConnectionOwner): void {
    this.#owner = owner;
  }

  /** Calls started on this connection so far. */
  served = 0;

  /** Calls in flight (including aborted ones the server has not ended yet). */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /** False once closed, closing, or unfit for another request. */
  get usable(): boolean {
    return !this.#closed && !this.#ending && this.#reusable;
  }

  /** Starts `call` on this connection with a free request id. */
  send(call: Call): void {
    let id = 1;
    if (this.multiplexed) {
      id = this.#nextId;
      while (this.#calls.has(id)) id = id === MAX_REQUEST_ID ? 1 : id + 1;
      this.#nextId = id === MAX_REQUEST_ID ? 1 : id + 1;
    }
    this.#calls.set(id, call);
    this.served++;
    call.start(this, id);
  }

  /**
   * Asks the server for management variables (FCGI_GET_VALUES). Resolves
   * with the answer, or null when the server does not say within `timeout`
   * ms, answers UNKNOWN_TYPE, or closes.
   */
  getValues(names: string[], timeout: number): Promise<Map<string, string> | null> {
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), timeout);
      const finish = (values: Map<string, string> | null) => {
        clearTimeout(timer);
        this.#values = null;
        resolve(values);
      };
      this.#values = finish;
      const query = encodePairs(names.map((name) => [name, ""] as const));
      this.write(encodeRecord(RecordType.GET_VALUES, FCGI_NULL_REQUEST_ID, query));
    });
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#decoder.push(chunk, this.#onRecord);
    } catch (error) {
      const failure = error instanceof FastCGIResponseError ? error : new FastCGIResponseError(
        `malformed FastCGI records: ${(error as Error).message}`,
        this.address,
        { cause: error },
      );
      this.#failAll(failure);
      this.#conn.destroy();
    }
  }

  #onRecord = (record: FastCGIRecord): void => {
    if (record.requestId === FCGI_NULL_REQUEST_ID) {
      if (record.type === RecordType.GET_VALUES_RESULT) {
        this.#values?.(new Map(decodePairs(record.content)));
      } else if (record.type === RecordType.UNKNOWN_TYPE) {
        this.#values?.(null);
      }
      return;
    }
    // Records for ids not in flight are ignored (spec 3.3).
    const call = this.#calls.get(record.requestId);
    if (call === undefined) return;
    switch (record.type) {
      case RecordType.STDOUT:
        return call.stdout(record.content);
      case RecordType.STDERR:
        return call.stderr(record.content);
      case RecordType.END_REQUEST:
        return call.end(record.content);
    }
  };

  // --- CallHost ---

  write(bytes: Uint8Array): boolean {
    if (this.#closed) return true;
    return this.#conn.write(bytes);
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

  block(call: Call, blocked: boolean): void {
    if (blocked) this.#blocked.add(call);
    else this.#blocked.delete(call);
    this.#setPaused(this.#blocked.size > 0);
  }

  #setPaused(pause: boolean): void {
    if (pause === this.#paused || this.#closed) return;
    this.#paused = pause;
    if (pause) this.#conn.pause();
    else this.#conn.resume();
  }

  release(call: Call, reusable: boolean, protocolStatus: number): void {
    if (this.#calls.get(call.id) === call) this.#calls.delete(call.id);
    this.#blocked.delete(call);
    this.#setPaused(this.#blocked.size > 0);
    if (!reusable) this.#reusable = false;
    if (this.#calls.size === 0 && (this.#ending || !this.#reusable) && !this.#closed) {
      this.#ending = true;
      this.#conn.end();
    }
    this.#owner?.released(this, protocolStatus);
  }

  abortOnWire(call: Call): void {
    if (this.#closed) return;
    if (this.multiplexed) {
      this.write(encodeRecord(RecordType.ABORT_REQUEST, call.id));
      return;
    }
    this.destroy();
  }

  // --- lifecycle ---

  /** Closes once the calls in flight are done, or now when there are none. */
  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (this.#calls.size === 0) this.#conn.end();
  }

  /** Closes now; calls in flight fail. */
  destroy(cause?: unknown): void {
    if (this.#closed) return;
    this.#failAll(cause);
    this.#conn.destroy();
  }

  #failAll(cause: unknown): void {
    const calls = [...this.#calls.values()];
    this.#closed = true;
    this.#calls.clear();
    this.#blocked.clear();
    for (const call of calls) call.closed(cause);
    this.#wakeWriters();
    this.#values?.(null);
  }

  #onClose(error?: Error): void {
    if (!this.#closed) this.#failAll(error);
    this.#wakeWriters();
    this.#owner?.closed(this);
  }
}
