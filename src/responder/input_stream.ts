import { FastCGIAbortError } from "./abort_error.ts";

/** Unread bytes at which a request's body pauses a connection that carries it alone. */
export const BODY_HIGH_WATER_MARK = 65536;

/**
 * One FastCGI input stream (STDIN or DATA). Until the handler starts it
 * collects records; then it becomes a ReadableStream that hands them over
 * as the handler reads. Bytes that came and are not read yet are `unread`;
 * at `limit()` of them the stream is blocked, which asks the connection to
 * stop reading the socket, until the handler reads.
 */
export class InputStream {
  #queue: Uint8Array[] = [];
  #unread = 0;
  #ended = false;
  #aborted = false;
  #discard = false;
  #blocked = false;
  /** Reading ahead past the limit up to `#raisedLimit` (see readAhead). */
  #raisedLimit = 0;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** A read is waiting for the next chunk. */
  #wanted = false;
  #onBlock: (blocked: boolean) => void;
  #limit: () => number;
  /** When set, a blocked stream drops its unread bytes with this error instead. */
  #dropWhenBlocked: Error | null = null;
  #endWaiters: Array<() => void> = [];

  /**
   * `onBlock(true)` asks the connection to pause reading, `onBlock(false)`
   * to resume; `limit()` is the unread bytes at which to ask.
   */
  constructor(onBlock: (blocked: boolean) => void, limit: () => number) {
    this.#onBlock = onBlock;
    this.#limit = limit;
  }

  /** True once the empty record arrived. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes received and not yet read by the handler. */
  get unread(): number {
    return this.#unread;
  }

  /** Resolves when the empty record arrived or the stream was aborted. */
  whenEnded(): Promise<void> {
    if (this.#ended || this.#aborted) return Promise.resolve();
    return new Promise((resolve) => this.#endWaiters.push(resolve));
  }

  /** Adds the content of one record. */
  push(chunk: Uint8Array): void {
    if (this.#discard || this.#ended) return;
    // A small view would keep its whole socket chunk alive while it waits:
    // memory must follow the unread bytes, not the chunks they came in.
    if (chunk.byteLength * 2 < chunk.buffer.byteLength) chunk = chunk.slice();
    if (this.#wanted) {
      this.#wanted = false;
      this.#controller!.enqueue(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#unread += chunk.length;
    this.#check();
  }

  /** The empty record arrived. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#wanted) {
      this.#wanted = false;
      this.#controller!.close();
    }
    this.#check();
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#endWaiters;
    this.#endWaiters = [];
    for (const wake of waiters) wake();
  }

  #check(): void {
    let limit = this.#limit();
    if (this.#raisedLimit > 0) {
      // Back under the limit: the handler reads again, reading ahead is over.
      if (this.#unread < limit) this.#raisedLimit = 0;
      else limit = this.#raisedLimit;
    }
    const blocked = !this.#discard && !this.#ended && this.#unread > limit;
    if (blocked && this.#dropWhenBlocked !== null) {
      this.#fail(this.#dropWhenBlocked);
      return;
    }
    if (blocked === this.#blocked) return;
    this.#blocked = blocked;
    this.#onBlock(blocked);
  }

  /**
   * Lets a blocked stream take up to `limit` unread bytes before it blocks
   * again, until the handler reads it back under its normal limit.
   */
  readAhead(limit: number): void {
    if (!this.#blocked || limit <= this.#limit()) return;
    this.#raisedLimit = limit;
    this.#check();
  }

  /**
   * From now on, instead of blocking, the stream drops what is unread and
   * fails with `reason` (a response that must wait for the end of this
   * stream would otherwise wait on a paused socket for ever).
   */
  dropWhenBlocked(reason: Error): void {
    this.#dropWhenBlocked = reason;
    this.#check();
  }

  /**
   * The body for a Request: null when nothing came, the bytes when all of it
   * is already here, else a stream.
   */
  take(): Uint8Array | ReadableStream<Uint8Array> | null {
    if (!this.#ended) return this.stream();
    const queue = this.#queue;
    const size = this.#unread;
    this.#queue = [];
    this.#unread = 0;
    if (queue.length === 0) return null;
    return queue.length === 1 ? queue[0] : concat(queue, size);
  }

  /** The stream, for bodies that must be streams (FCGI_DATA). */
  stream(): ReadableStream<Uint8Array> {
    // highWaterMark 0: pull() runs only for a read, so what is unread stays
    // countable here, and a read is a sign of progress.
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: (controller) => {
        const chunk = this.#queue.shift();
        if (chunk !== undefined) {
          this.#unread -= chunk.length;
          controller.enqueue(chunk);
          this.#check();
        } else if (this.#ended) controller.close();
        else this.#wanted = true;
      },
      cancel: () => this.#drop(),
    }, { highWaterMark: 0 });
  }

  #drop(): void {
    this.#discard = true;
    this.#queue = [];
    this.#unread = 0;
    this.#wanted = false;
    this.#check();
  }

  /** True when a reader could still be waiting for, or be owed, bytes. */
  get #readable(): boolean {
    return this.#controller !== null && !this.#discard && (!this.#ended || this.#unread > 0);
  }

  /** Fails pending and later reads with `reason`, and drops what is left. */
  #fail(reason: unknown): void {
    if (this.#readable) {
      try {
        this.#controller!.error(reason);
      } catch {
        // already closed or errored
      }
    }
    this.#drop();
  }

  /** The request is over: fail pending reads, stop holding the connection. */
  abort(reason: unknown): void {
    this.#fail(reason);
    this.#aborted = true;
    this.#wake();
  }

  /**
   * The response is done: a read that is still waiting (or comes later)
   * fails instead of waiting for ever, and later input is dropped.
   */
  release(): void {
    // A body that came whole stays readable to its end: nothing is dropped.
    if (this.#ended) return;
    // An Error costs microseconds to make (its stack): only when a reader is owed one.
    if (this.#readable) {
      this.#fail(new FastCGIAbortError("the response was sent before the request body was read"));
    } else this.#drop();
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
