/** Bytes a request body may hold before the connection stops reading. */
export const BODY_HIGH_WATER_MARK = 65536;

/**
 * One FastCGI input stream (STDIN or DATA). Until the handler starts it
 * collects records; then it becomes a ReadableStream whose queue, when
 * full, asks the connection to stop reading the socket.
 */
export class InputStream {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #ended = false;
  #discard = false;
  #blocked = false;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #onBlock: (blocked: boolean) => void;
  #endWaiters: Array<() => void> = [];

  /** `onBlock(true)` asks the connection to pause reading, `onBlock(false)` to resume. */
  constructor(onBlock: (blocked: boolean) => void) {
    this.#onBlock = onBlock;
  }

  /** True once the empty record arrived. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves when the stream has ended or been aborted. */
  whenEnded(): Promise<void> {
    if (this.#ended || this.#discard) return Promise.resolve();
    return new Promise((resolve) => this.#endWaiters.push(resolve));
  }

  #block(blocked: boolean): void {
    if (this.#blocked === blocked) return;
    this.#blocked = blocked;
    this.#onBlock(blocked);
  }

  /** Adds the content of one record (a view: kept, not copied). */
  push(chunk: Uint8Array): void {
    if (this.#discard || this.#ended) return;
    const controller = this.#controller;
    if (controller !== null) {
      controller.enqueue(chunk);
      if ((controller.desiredSize ?? 0) <= 0) this.#block(true);
      return;
    }
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size >= BODY_HIGH_WATER_MARK) this.#block(true);
  }

  /** The empty record arrived. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#controller !== null && !this.#discard) this.#controller.close();
    this.#block(false);
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#endWaiters) wake();
    this.#endWaiters = [];
  }

  /**
   * The body for a Request: null when nothing came, the bytes when all of it
   * is already here, else a stream.
   */
  take(): Uint8Array | ReadableStream<Uint8Array> | null {
    if (this.#ended) {
      const chunks = this.#chunks;
      this.#chunks = [];
      if (chunks.length === 0) return null;
      return chunks.length === 1 ? chunks[0] : concat(chunks, this.#size);
    }
    return this.stream();
  }

  /** The stream, for bodies that must be streams (FCGI_DATA). */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        for (const chunk of this.#chunks) controller.enqueue(chunk);
        this.#chunks = [];
        if (this.#ended) controller.close();
      },
      pull: () => this.#block(false),
      cancel: () => this.#drop(),
    }, { highWaterMark: BODY_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength });
  }

  #drop(): void {
    this.#discard = true;
    this.#chunks = [];
    this.#block(false);
    this.#wake();
  }

  /** The request is over: fail pending reads, stop holding the connection. */
  abort(reason: unknown): void {
    if (this.#controller !== null && !this.#ended && !this.#discard) {
      try {
        this.#controller.error(reason);
      } catch {
        // already closed or errored
      }
    }
    this.#drop();
  }

  /** The response is done: later input is dropped and must not block the connection. */
  release(): void {
    this.#drop();
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
