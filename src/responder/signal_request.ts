// A Request signal costs an AbortController, and undici (Node) and Deno then
// make the Request's own signal follow it with a listener, a WeakRef and a
// finalizer: on Node that is two thirds of building the Request. Most
// handlers never look at the signal, so it is made on first use.

/** Aborts a SignalRequest; set in the class's static block, where its private fields are in reach. */
let abortLazy: (request: Request, reason: unknown) => void;

/**
 * The Request a handler receives: a real `Request` whose `signal` is made
 * when first read, and aborted when the web server aborts the request or
 * closes the connection (before or after that first read). A `clone()`
 * gets a signal that follows this one.
 *
 * The runtime's own copy of the signal, which `fetch(request)` and
 * `new Request(request)` read without going through `request.signal`, never
 * fires: pass `{ signal: request.signal }` to forward the abort upstream.
 */
export class SignalRequest extends Request {
  #controller: AbortController | null = null;
  #aborted = false;
  #reason: unknown = undefined;

  static {
    abortLazy = (request, reason) => {
      if (request instanceof SignalRequest) request.#abort(reason);
    };
  }

  /** Fires when the web server aborts the request or the connection closes. */
  override get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === null) {
      controller = this.#controller = new AbortController();
      if (this.#aborted) controller.abort(this.#reason);
    }
    return controller.signal;
  }

  #abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  /** A copy whose signal follows this request's. */
  override clone(): Request {
    const copy = super.clone();
    const signal = this.signal;
    const follower = new AbortController();
    if (signal.aborted) follower.abort(signal.reason);
    else signal.addEventListener("abort", () => follower.abort(signal.reason), { once: true });
    Object.defineProperty(copy, "signal", { value: follower.signal, configurable: true });
    return copy;
  }
}

/**
 * Fires `request.signal` (now or when it is first read) with `reason`.
 * Requests of other classes are left alone.
 */
export function abortRequest(request: Request, reason: unknown): void {
  abortLazy(request, reason);
}
