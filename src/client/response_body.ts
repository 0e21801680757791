/** Bytes of response body buffered before the socket is paused. */
const HIGH_WATER_MARK = 65536;

/**
 * The body stream of one response, fed from STDOUT records. When the
 * reader falls behind by more than 64 KiB it reports `blocked(true)` (the
 * connection pauses the socket) and `blocked(false)` once it catches up.
 */
export class ResponseBody {
  readonly stream: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #blocked = false;
  #open = true;
  #onBlocked: (blocked: boolean) => void;

  /**
   * @param onBlocked backpressure: true pauses reading from the socket
   * @param onCancel the reader cancelled the stream
   */
  constructor(onBlocked: (blocked: boolean) => void, onCancel: () => void) {
    this.#onBlocked = onBlocked;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => this.#unblock(),
        cancel: () => {
          this.#open = false;
          this.#unblock();
          onCancel();
        },
      },
      { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    );
  }

  /** False once closed, errored or cancelled. */
  get open(): boolean {
    return this.#open;
  }

  /** Queues body bytes. */
  push(chunk: Uint8Array): void {
    if (!this.#open || chunk.length === 0) return;
    this.#controller.enqueue(chunk);
    if (!this.#blocked && (this.#controller.desiredSize ?? 1) <= 0) {
      this.#blocked = true;
      this.#onBlocked(true);
    }
  }

  /** The body is complete; what is queued can still be read. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#unblock();
    this.#controller.close();
  }

  /** The body failed: the reader gets `error`. */
  error(error: unknown): void {
    if (!this.#open) return;
    this.#open = false;
    this.#unblock();
    this.#controller.error(error);
  }

  #unblock(): void {
    if (!this.#blocked) return;
    this.#blocked = false;
    this.#onBlocked(false);
  }
}
