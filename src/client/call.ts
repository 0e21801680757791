import {
  FCGI_KEEP_CONN,
  FCGI_MAX_WRITE_CONTENT,
  ProtocolStatus,
  RecordType,
  Role,
} from "../protocol/constants.ts";
import { decodeEndRequestBody, encodeBeginRequestBody } from "../protocol/bodies.ts";
import { encodePairs, type PairPart } from "../protocol/pairs.ts";
import { encodeRecord, encodeStream } from "../protocol/record.ts";
import type { RequestBody } from "./body.ts";
import { findHeadEnd, parseCgiHead } from "./cgi_head.ts";
import { ResponseBody } from "./response_body.ts";
import {
  FastCGICantMultiplexError,
  FastCGIConnectionError,
  FastCGIOverloadedError,
  FastCGIResponseError,
  FastCGIUnknownRoleError,
} from "./errors.ts";

/** What a call needs from the connection it runs on; nothing reaches further up. */
export interface CallHost {
  /** The server, for error messages. */
  readonly address: string;
  /** True when other calls may share the connection (abort sends FCGI_ABORT_REQUEST). */
  readonly multiplexed: boolean;
  /** Queues bytes; false when the socket is full. */
  write(bytes: Uint8Array): boolean;
  /** Resolves on drain, or once the connection is gone. */
  drained(): Promise<void>;
  /** Response backpressure: true pauses reading from the socket. */
  block(call: Call, blocked: boolean): void;
  /** The server ended the call (END_REQUEST); `reusable` false closes the connection. */
  release(call: Call, reusable: boolean, protocolStatus: number): void;
  /** Stops the call on the server: FCGI_ABORT_REQUEST if multiplexed, else closes the connection. */
  abortOnWire(call: Call): void;
}

/** Everything a call sends. */
export interface CallSpec {
  request: Request;
  params: Array<[string, PairPart]>;
  body: RequestBody;
  role: number;
  data: Uint8Array | null;
  /** Receives FCGI_STDERR text; null writes it to stderr line by line. */
  onStderr: ((text: string, request: Request) => void) | null;
  /** Aborting any of them aborts the call. */
  signals: AbortSignal[];
}

/** Largest header block accepted before the response is declared malformed. */
const MAX_HEAD_BYTES = 262144;
/** Body bytes per write, as whole records. */
const WRITE_CHUNK = FCGI_MAX_WRITE_CONTENT * 4;
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * One request on the wire, from BEGIN_REQUEST to END_REQUEST: sends the
 * params and body, turns STDOUT into a streaming `Response`, STDERR into
 * `onStderr` calls, and END_REQUEST into completion or a typed error.
 */
export class Call {
  readonly spec: CallSpec;
  /** Settles with the response once its header block has arrived. */
  readonly response: Promise<Response>;
  /** The request id, once started on a connection. */
  id = 0;
  /** Called when the call is aborted before it started (the pool drops it from its queue). */
  onAbandon: (() => void) | null = null;
  /**
   * Set by the pool when the call runs on a reused connection: if that
   * connection turns out closed before any reply, the call is sent again.
   */
  retry: (() => void) | null = null;
  /** Bumped on each start, so a body sender of an earlier attempt stops. */
  #attempt = 0;
  /** A record for this call arrived. */
  #replied = false;
  /** abort() ran. */
  #aborted = false;
  #resolve!: (response: Response) => void;
  #reject!: (error: unknown) => void;
  #host: CallHost | null = null;
  /** The response promise settled (or the call was aborted). */
  #settled = false;
  /** END_REQUEST arrived or the call failed: nothing more comes in. */
  #over = false;
  /** Stop sending STDIN (END_REQUEST arrived, or aborted). */
  #stopSending = false;
  #stdinDone = false;
  /** Ignore further STDOUT (aborted, cancelled, or a body-less response). */
  #discard = false;
  #head: Uint8Array[] = [];
  #headBytes = 0;
  /** The response body, once the head has arrived (and the response has one). */
  #body: ResponseBody | null = null;
  /** The header block is parsed (the response is out, or failed). */
  #headDone = false;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #stderr = new TextDecoder();
  /** An unfinished line of stderr text, for the default writer. */
  #stderrLine = "";

  constructor(spec: CallSpec) {
    this.spec = spec;
    this.response = new Promise<Response>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    for (const signal of spec.signals) {
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  #onAbort = (event: Event): void => {
    const signal = event.target as AbortSignal;
    this.abort(signal.reason ?? new DOMException("The operation was aborted.", "AbortError"));
  };

  #detach(): void {
    for (const signal of this.spec.signals) signal.removeEventListener("abort", this.#onAbort);
  }

  /** Sends BEGIN_REQUEST, the params and the body on `host` as request `id`. */
  start(host: CallHost, id: number): void {
    this.#host = host;
    this.id = id;
    this.#attempt++;
    const spec = this.spec;
    const begin = encodeRecord(
      RecordType.BEGIN_REQUEST,
      id,
      encodeBeginRequestBody(spec.role, FCGI_KEEP_CONN),
    );
    const params = encodeStream(RecordType.PARAMS, id, encodePairs(spec.params), true);
    const head = new Uint8Array(begin.length + params.length);
    head.set(begin);
    head.set(params, begin.length);
    const ok = host.write(head);
    const attempt = this.#attempt;
    this.#sendBody(host, ok, attempt).catch((error) => {
      if (attempt === this.#attempt) this.#bodyFailed(error);
    });
  }

  #halted(attempt: number): boolean {
    return this.#stopSending || attempt !== this.#attempt;
  }

  async #sendBody(host: CallHost, writable: boolean, attempt: number): Promise<void> {
    const id = this.id;
    const body = this.spec.body;
    if (!writable) await host.drained();
    if (body.kind === "bytes") {
      const bytes = body.bytes;
      for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
        if (this.#halted(attempt)) return;
        const records = encodeStream(RecordType.STDIN, id, bytes.subarray(at, at + WRITE_CHUNK));
        if (!host.write(records)) await host.drained();
      }
    } else if (body.kind === "stream") {
      const reader = body.stream.getReader();
      this.#reader = reader;
      for (;;) {
        if (this.#halted(attempt)) return;
        const { value, done } = await reader.read();
        if (this.#halted(attempt)) return;
        if (done) break;
        if (!(value instanceof Uint8Array)) {
          throw new TypeError("a request body stream must yield Uint8Array chunks");
        }
        // An empty record would end STDIN early.
        if (value.length === 0) continue;
        if (!host.write(encodeStream(RecordType.STDIN, id, value))) await host.drained();
      }
      this.#reader = null;
    }
    if (this.#halted(attempt)) return;
    let tail = encodeRecord(RecordType.STDIN, id);
    if (this.spec.role === Role.FILTER) {
      const data = encodeStream(RecordType.DATA, id, this.spec.data ?? new Uint8Array(), true);
      const joined = new Uint8Array(tail.length + data.length);
      joined.set(tail);
      joined.set(data, tail.length);
      tail = joined;
    }
    host.write(tail);
    this.#stdinDone = true;
  }

  #bodyFailed(error: unknown): void {
    if (this.#stopSending) return;
    this.abort(new TypeError("the request body failed", { cause: error }));
  }

  // --- records from the connection ---

  /** A STDOUT record. */
  stdout(content: Uint8Array): void {
    this.#replied = true;
    if (this.#discard || this.#over || content.length === 0) return;
    if (this.#headDone) this.#body?.push(content);
    else this.#collectHead(content);
  }

  #collectHead(content: Uint8Array): void {
    const scannedBefore = this.#headBytes;
    this.#head.push(content);
    this.#headBytes += content.length;
    const bytes = this.#head.length === 1 ? content : concat(this.#head, this.#headBytes);
    this.#head = [bytes];
    const bodyStart = findHeadEnd(bytes, scannedBefore);
    if (bodyStart < 0) {
      if (this.#headBytes > MAX_HEAD_BYTES) {
        this.#failAndAbort(
          this.#responseError(`no end of the CGI header block within ${MAX_HEAD_BYTES} bytes`),
        );
      }
      return;
    }
    this.#head = [];
    this.#headDone = true;
    let head;
    try {
      head = parseCgiHead(bytes.subarray(0, bodyStart));
    } catch (error) {
      this.#failAndAbort(this.#responseError((error as Error).message));
      return;
    }
    const nullBody = this.spec.request.method === "HEAD" || NULL_BODY_STATUS.has(head.status);
    // A body-less response drops whatever STDOUT still brings.
    if (nullBody) this.#discard = true;
    else {
      this.#body = new ResponseBody(
        (blocked) => this.#host?.block(this, blocked),
        () => this.#cancel(),
      );
    }
    const body = this.#body?.stream ?? null;
    let response: Response;
    try {
      response = new Response(body, head);
    } catch {
      // A reason phrase the Response constructor rejects: keep the status only.
      response = new Response(body, { status: head.status, headers: head.headers });
    }
    this.#settled = true;
    this.#resolve(response);
    if (bodyStart < bytes.length) this.stdout(bytes.subarray(bodyStart));
  }

  /** A STDERR record. */
  stderr(content: Uint8Array): void {
    this.#replied = true;
    const text = content.length === 0
      ? this.#stderr.decode()
      : this.#stderr.decode(content, { stream: true });
    if (text === "") return;
    const onStderr = this.spec.onStderr;
    if (onStderr === null) {
      const lines = (this.#stderrLine + text).split("\n");
      this.#stderrLine = lines.pop()!;
      for (const line of lines) writeLine(line);
      return;
    }
    try {
      onStderr(text, this.spec.request);
    } catch {
      // A throwing callback must not break the response.
    }
  }

  #flushStderr(): void {
    if (this.#stderrLine !== "") writeLine(this.#stderrLine);
    this.#stderrLine = "";
  }

  /** The END_REQUEST record: the server is done with this id. */
  end(content: Uint8Array): void {
    const host = this.#host!;
    const { protocolStatus } = decodeEndRequestBody(content);
    this.#replied = true;
    this.#over = true;
    this.#detach();
    // A body sent without CONTENT_LENGTH may be left partly unread by a
    // server that reads by length (PHP-FPM): the connection is not reused.
    const body = this.spec.body;
    const unknownLength = body.kind === "stream" && body.length === null;
    const reusable = host.multiplexed || (this.#stdinDone && !unknownLength);
    this.#stopSending = true;
    this.#releaseReader();
    this.stderr(new Uint8Array());
    this.#flushStderr();
    switch (protocolStatus) {
      case ProtocolStatus.REQUEST_COMPLETE:
        if (this.#headDone) this.#body?.close();
        else if (!this.#settled) {
          this.#fail(this.#responseError(
            this.#headBytes === 0
              ? "the FastCGI application ended the request without a response"
              : "the response ended inside the CGI header block",
          ));
        }
        break;
      case ProtocolStatus.OVERLOADED:
        this.#fail(new FastCGIOverloadedError(host.address));
        break;
      case ProtocolStatus.UNKNOWN_ROLE:
        this.#fail(new FastCGIUnknownRoleError(host.address, this.spec.role));
        break;
      case ProtocolStatus.CANT_MPX_CONN:
        this.#fail(new FastCGICantMultiplexError(host.address));
        break;
      default:
        this.#fail(this.#responseError(`unknown END_REQUEST protocol status ${protocolStatus}`));
    }
    host.release(this, reusable, protocolStatus);
  }

  /** The connection is gone. */
  closed(cause?: unknown): void {
    if (this.#over) return;
    const retry = this.retry;
    this.retry = null;
    if (retry !== null && !this.#replied && !this.#settled && this.spec.body.kind !== "stream") {
      // A kept connection the server had closed: nothing was processed, send again.
      this.#host = null;
      this.#attempt++;
      this.#stdinDone = false;
      retry();
      return;
    }
    this.#over = true;
    this.#detach();
    this.#flushStderr();
    this.#stopSending = true;
    this.#releaseReader();
    const address = this.#host?.address ?? "";
    this.#fail(
      cause instanceof FastCGIResponseError ? cause : new FastCGIConnectionError(
        "the connection closed before the response was complete",
        address,
        { cause },
      ),
    );
  }

  // --- endings ---

  /** Aborts the call: the caller's signal fired, or the body failed. */
  abort(reason: unknown): void {
    if (this.#over || this.#aborted) return;
    this.#aborted = true;
    this.#detach();
    const started = this.#host !== null;
    this.#fail(reason);
    this.#stopSending = true;
    this.#discard = true;
    this.#cancelReader(reason);
    if (started) this.#host!.abortOnWire(this);
    else this.onAbandon?.();
  }

  /** The caller cancelled the response body. */
  #cancel(): void {
    if (this.#over || this.#discard) return;
    this.#detach();
    this.#discard = true;
    this.#stopSending = true;
    this.#host?.abortOnWire(this);
  }

  #failAndAbort(error: FastCGIResponseError): void {
    this.#fail(error);
    this.#discard = true;
    this.#stopSending = true;
    this.#host?.abortOnWire(this);
  }

  /** Rejects the response promise, or errors the body stream if the response is out. */
  #fail(error: unknown): void {
    if (!this.#settled) {
      this.#settled = true;
      this.#reject(error);
      return;
    }
    this.#discard = true;
    this.#body?.error(error);
  }

  #releaseReader(): void {
    const reader = this.#reader;
    this.#reader = null;
    if (reader === null) return;
    // The server is done with the body: stop reading it.
    reader.cancel().catch(() => {});
  }

  #cancelReader(reason: unknown): void {
    const reader = this.#reader;
    this.#reader = null;
    if (reader !== null) reader.cancel(reason).catch(() => {});
    else if (this.#host === null && this.spec.body.kind === "stream") {
      this.spec.body.stream.cancel(reason).catch(() => {});
    }
  }

  #responseError(message: string): FastCGIResponseError {
    return new FastCGIResponseError(message, this.#host?.address ?? "");
  }
}

/** The default stderr: the process's, one line per call. */
function writeLine(line: string): void {
  try {
    console.error(line.endsWith("\r") ? line.slice(0, -1) : line);
  } catch {
    // stderr closed
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
