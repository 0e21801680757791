import { FCGI_MAX_WRITE_CONTENT, ProtocolStatus, RecordType, Role } from "../protocol/constants.ts";
import { FastCGIProtocolError } from "../protocol/errors.ts";
import { paddingFor } from "../protocol/record.ts";
import type { ServerConfig } from "./config.ts";
import { FastCGIAbortError } from "./abort_error.ts";
import { InputStream } from "./input_stream.ts";
import { logError } from "./log.ts";
import { decodeParams, type Params } from "./params.ts";
import { buildRequest } from "./request.ts";
import { FastCGIRequestError } from "./request_error.ts";
import { abortRequest } from "./signal_request.ts";
import { isBodylessStatus, responseHead } from "./response_head.ts";
import {
  dataHeader,
  dataRecord,
  emptyRecord,
  endRecords,
  headAndBodyRecord,
  headRecord,
  PADDING,
  textRecords,
} from "./records_out.ts";
import type { FastCGIInfo } from "./types.ts";

/** What an exchange needs from its connection; nothing reaches further up. */
export interface ExchangeHost {
  readonly config: ServerConfig;
  /** Queues bytes on the socket; false when the socket is full (the caller waits for drained). */
  write(bytes: Uint8Array): boolean;
  /**
   * Queues bytes that no handler paces (an answer of our own, the end of a
   * response): while the socket is full, the connection stops reading, so
   * that a peer that never reads cannot make them pile up.
   */
  reply(bytes: Uint8Array): void;
  /** Resolves when the socket drained or the connection closed. */
  drained(): Promise<void>;
  /** Unread bytes of a request body at which it blocks (see InputStream). */
  bodyLimit(): number;
  /** Input stream backpressure: true pauses socket reads. */
  block(exchange: Exchange, blocked: boolean): void;
  /** The exchange has sent END_REQUEST (or its connection is gone). */
  finished(exchange: Exchange): void;
}

/** After an early answer: ms without STDIN after which END_REQUEST goes out anyway. */
const STDIN_DRAIN_IDLE_MS = 250;
const ROLE_NAMES = { 1: "responder", 2: "authorizer", 3: "filter" } as const;
const APP_STATUS_ERROR = 1;

function isResponse(value: unknown): value is Response {
  return typeof value === "object" && value !== null &&
    typeof (value as Response).status === "number" &&
    typeof (value as Response).headers === "object";
}

// Authorizer variables: web Headers lower-case names, CGI wants VARIABLE-NAME as written.
function authorizerName(name: string): string {
  return name.startsWith("variable-") ? `Variable-${name.slice(9).toUpperCase()}` : name;
}

const noop = () => {};

/** The body of a Response or Response-like object: null or a ReadableStream. */
function bodyOf(response: Response): ReadableStream<Uint8Array> | null {
  const body = response.body as unknown;
  if (body === null || body === undefined) return null;
  if (typeof (body as ReadableStream).getReader !== "function") {
    throw new TypeError("the response body is not a ReadableStream");
  }
  return body as ReadableStream<Uint8Array>;
}

/** Releases a body we will not send, whatever the object holds. */
function cancelBody(response: Response): void {
  try {
    const body = response.body as unknown;
    if (body !== null && typeof (body as ReadableStream)?.cancel === "function") {
      (body as ReadableStream).cancel().catch(noop);
    }
  } catch {
    // a throwing getter: nothing to release
  }
}

/** One request on a connection, from BEGIN_REQUEST to END_REQUEST. */
export class Exchange {
  readonly id: number;
  readonly role: number;
  readonly keepConn: boolean;
  /** Set at BEGIN_REQUEST; cleared once params are complete (for the params timeout). */
  paramsDeadline: number;
  /** Since when (ms) a body stream of this request blocks its connection; 0 when none does. */
  blockedSince = 0;
  #blockedStreams = 0;
  #host: ExchangeHost;
  #paramChunks: Uint8Array[] = [];
  #paramBytes = 0;
  #paramsDone = false;
  #params: Params | null = null;
  /** The HTTP_* names of the params, in order (for the Request headers). */
  #headerNames: string[] = [];
  #stdin: InputStream;
  #data: InputStream | null;
  #request: Request | null = null;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #done = false;
  #failed = false;
  #complete: () => void = noop;
  #stdinSeen = false;
  /** The response is complete but END_REQUEST waits for the end of STDIN (its appStatus). */
  #pendingEnd: number | null = null;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: ExchangeHost, id: number, role: number, keepConn: boolean, now: number) {
    this.#host = host;
    this.id = id;
    this.role = role;
    this.keepConn = keepConn;
    this.paramsDeadline = now + host.config.paramsTimeout;
    const onBlock = (blocked: boolean) => this.#onBlock(blocked);
    const bodyLimit = () => host.bodyLimit();
    // A filter's DATA comes after its STDIN: a handler that reads DATA first
    // needs STDIN read ahead, so a filter's STDIN may hold maxUnreadBody.
    this.#stdin = new InputStream(
      onBlock,
      role === Role.FILTER ? () => host.config.maxUnreadBody : bodyLimit,
    );
    this.#data = role === Role.FILTER ? new InputStream(onBlock, bodyLimit) : null;
  }

  /** A body stream blocked or unblocked: the request blocks while any of its streams does. */
  #onBlock(blocked: boolean): void {
    const before = this.#blockedStreams > 0;
    this.#blockedStreams += blocked ? 1 : -1;
    const now = this.#blockedStreams > 0;
    if (now === before) return;
    this.blockedSince = now ? Date.now() : 0;
    this.#host.block(this, now);
  }

  /** Lets the body streams read ahead up to `limit` unread bytes (see InputStream.readAhead). */
  readAhead(limit: number): void {
    this.#stdin.readAhead(limit);
    this.#data?.readAhead(limit);
  }

  /** True once END_REQUEST went out or the request was dropped. */
  get done(): boolean {
    return this.#done;
  }

  /** True once the empty PARAMS record arrived. */
  get paramsDone(): boolean {
    return this.#paramsDone;
  }

  /**
   * One PARAMS record. Returns true when the params are complete and the
   * handler can start.
   *
   * @throws {FastCGIProtocolError} on PARAMS after the end, or malformed pairs.
   */
  params(content: Uint8Array): boolean {
    if (this.#paramsDone) {
      throw this.#protocolError("PARAMS after the end of the params stream", RecordType.PARAMS);
    }
    if (this.#done) return false;
    if (content.length > 0) {
      this.#paramBytes += content.length;
      if (this.#paramBytes > this.#host.config.maxParamsBytes) {
        this.#paramChunks = [];
        this.#paramsDone = true;
        logError(
          `request ${this.id}: params exceed maxParamsBytes (${this.#host.config.maxParamsBytes})`,
        );
        this.#respondAtOnce(431);
        return false;
      }
      // A view for now; keepParams() copies it if the params do not end in
      // this socket chunk.
      this.#paramChunks.push(content);
      return false;
    }
    this.#paramsDone = true;
    const chunks = this.#paramChunks;
    this.#paramChunks = [];
    let block: Uint8Array;
    if (chunks.length === 1) block = chunks[0];
    else {
      block = new Uint8Array(this.#paramBytes);
      let at = 0;
      for (const chunk of chunks) {
        block.set(chunk, at);
        at += chunk.length;
      }
    }
    try {
      this.#params = decodeParams(block, this.#headerNames);
    } catch (error) {
      if (error instanceof FastCGIRequestError) {
        this.#reject(error);
        return false;
      }
      if (error instanceof FastCGIProtocolError) {
        (error.where as { requestId?: number }).requestId = this.id;
      }
      throw error;
    }
    return true;
  }

  /**
   * The socket chunk that carried PARAMS is done with: incomplete params
   * are copied out of it (one buffer), so that a thousand 1-byte records do
   * not keep a thousand chunks alive. Params that end in the chunk they came
   * in (the usual case) are decoded from the chunk without a copy.
   */
  keepParams(): void {
    const chunks = this.#paramChunks;
    if (this.#paramsDone || chunks.length === 0) return;
    const kept = new Uint8Array(this.#paramBytes);
    let at = 0;
    for (const chunk of chunks) {
      kept.set(chunk, at);
      at += chunk.length;
    }
    this.#paramChunks = [kept];
  }

  /**
   * One STDIN record (empty = end of the body).
   *
   * @throws {FastCGIProtocolError} when it comes before the params are complete.
   */
  stdin(content: Uint8Array): void {
    if (!this.#paramsDone) {
      throw this.#protocolError("STDIN before the end of PARAMS", RecordType.STDIN);
    }
    if (content.length === 0) {
      this.#stdin.end();
      if (this.#pendingEnd !== null) this.#endRequest(this.#pendingEnd, false);
    } else {
      this.#stdinSeen = true;
      this.#stdin.push(content);
      if (this.#pendingEnd !== null) this.#armDrain();
    }
  }

  /**
   * One DATA record (filter role only).
   *
   * @throws {FastCGIProtocolError} for another role, or before the end of PARAMS.
   */
  data(content: Uint8Array): void {
    if (this.#data === null) {
      // flup's client ends an empty DATA stream for every request.
      if (content.length === 0) return;
      throw this.#protocolError(
        `DATA for a ${ROLE_NAMES[this.role as 1]} request`,
        RecordType.DATA,
      );
    }
    if (!this.#paramsDone) {
      throw this.#protocolError("DATA before the end of PARAMS", RecordType.DATA);
    }
    if (content.length === 0) this.#data.end();
    else this.#data.push(content);
  }

  #protocolError(what: string, recordType: number): FastCGIProtocolError {
    return new FastCGIProtocolError(what, { context: "request", requestId: this.id, recordType });
  }

  /** Builds the Request and runs the handler. Called once params are complete. */
  start(): void {
    if (this.#done || this.#params === null) return;
    const params = this.#params;
    let request: Request;
    try {
      const body = this.role === Role.AUTHORIZER ? null : this.#stdin.take();
      request = buildRequest(params, body, this.#headerNames);
      this.#request = request;
    } catch (error) {
      this.#reject(
        error instanceof FastCGIRequestError
          ? error
          : new FastCGIRequestError("invalid request", { cause: error }),
      );
      return;
    }
    const host = this.#host;
    const info: FastCGIInfo = {
      params,
      role: ROLE_NAMES[this.role as 1 | 2 | 3],
      requestId: this.id,
      remoteAddr: {
        transport: "tcp",
        hostname: params.REMOTE_ADDR ?? "",
        port: Number(params.REMOTE_PORT) || 0,
      },
      data: this.#data === null ? null : this.#data.stream(),
      // A plain property: a getter in an object literal costs V8 about a
      // microsecond per request, a promise a few dozen nanoseconds.
      completed: new Promise<void>((resolve) => (this.#complete = resolve)),
    };
    let result: Response | Promise<Response>;
    try {
      result = host.config.handler(request, info);
    } catch (error) {
      this.#fail(error).catch(noop);
      return;
    }
    if (isResponse(result)) this.#send(result).catch(noop);
    else {
      Promise.resolve(result).then(
        (response) =>
          isResponse(response)
            ? this.#send(response)
            : this.#fail(new TypeError("the handler did not return a Response")),
        (error) => this.#fail(error),
      ).catch(noop);
    }
  }

  async #fail(error: unknown): Promise<void> {
    if (this.#done) return;
    if (this.#failed) {
      logError(`request ${this.id}: onError's response failed too`, error);
      return this.#respondAtOnce(500);
    }
    this.#failed = true;
    logError(`request ${this.id}: handler failed`, error);
    this.#stderr(`webfcgi: handler failed: ${error instanceof Error ? error.name : "error"}\n`);
    const onError = this.#host.config.onError;
    if (onError !== undefined) {
      try {
        const response = await onError(error);
        if (isResponse(response)) return this.#send(response);
        logError(`request ${this.id}: onError did not return a Response`);
      } catch (second) {
        logError(`request ${this.id}: onError failed`, second);
      }
    }
    if (this.#done) return;
    this.#respondAtOnce(500);
  }

  #stderr(text: string): void {
    if (this.#done) return;
    this.#host.reply(textRecords(RecordType.STDERR, this.id, text));
    this.#host.reply(emptyRecord(RecordType.STDERR, this.id));
  }

  /** Params that do not form a request: answered by us, logged with the reason. */
  #reject(error: FastCGIRequestError): void {
    const params = this.#params;
    const what = params === null
      ? ""
      : ` (${params.REQUEST_METHOD ?? ""} ${params.REQUEST_URI ?? ""})`;
    logError(`request ${this.id}: rejected${what}`, error.message);
    this.#respondAtOnce(error.status);
  }

  /** A small text response written in one go: no handler involved. */
  #respondAtOnce(status: 400 | 431 | 500): void {
    if (this.#done) return;
    const text = `${OWN_ANSWERS[status]}\n`;
    const head = `Status: ${status} ${OWN_ANSWERS[status]}\r\n` +
      `content-type: text/plain; charset=utf-8\r\ncontent-length: ${text.length}\r\n\r\n${text}`;
    this.#host.reply(textRecords(RecordType.STDOUT, this.id, head));
    this.#finish(0);
  }

  async #send(response: Response): Promise<void> {
    if (this.#done) {
      cancelBody(response);
      return;
    }
    if (response.status === 0) {
      // Response.error(): a network error has no HTTP form; report it as ours.
      return this.#fail(new TypeError("the handler returned Response.error()"));
    }
    // A filter may only answer once it has read all of STDIN (spec 6.4).
    if (this.role === Role.FILTER && !this.#stdin.ended) {
      // Waiting on a STDIN that nobody reads would pause the socket for good.
      this.#stdin.dropWhenBlocked(
        new FastCGIAbortError("the filter answered before reading FCGI_STDIN past maxUnreadBody"),
      );
      await this.#stdin.whenEnded();
      if (this.#done) {
        cancelBody(response);
        return;
      }
    }
    // Everything that can be wrong with the response is found before the
    // first byte goes out, so that it can still become a 500.
    let headText: string;
    let head: Uint8Array;
    let body: ReadableStream<Uint8Array> | null;
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    let bodyless: boolean;
    try {
      headText = responseHead(
        response,
        this.role === Role.AUTHORIZER ? authorizerName : undefined,
      );
      head = headRecord(this.id, headText);
      body = bodyOf(response);
      bodyless = this.#params?.REQUEST_METHOD === "HEAD" || isBodylessStatus(response.status);
      if (body !== null && !bodyless) reader = body.getReader();
    } catch (error) {
      cancelBody(response);
      return this.#fail(error);
    }
    const host = this.#host;
    if (reader === null) {
      body?.cancel().catch(noop);
      host.reply(head);
      this.#finish(0);
      return;
    }
    this.#reader = reader;
    if (this.role === Role.AUTHORIZER) {
      if (!(await this.#headWithBody(headText, reader))) return;
    } else host.write(head);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.#done) return;
        if (done) break;
        if (!this.#writeStdout(value)) {
          await host.drained();
          if (this.#done) return;
        }
      }
    } catch (error) {
      if (this.#done) return;
      logError(`request ${this.id}: response body failed`, error);
      this.#finish(APP_STATUS_ERROR);
      return;
    } finally {
      this.#reader = null;
    }
    this.#finish(0);
  }

  /**
   * An Authorizer's header block goes out with the body bytes in the same
   * STDOUT record: mod_authnz_fcgi keeps only the body bytes of the record
   * that ends the header block (a deny page in a later record gives way to
   * Apache's own error page). Up to a record's worth of body is read before
   * anything is sent, so a body that fails by then still becomes a 500.
   * False when the exchange is over.
   */
  async #headWithBody(
    head: string,
    reader: ReadableStreamDefaultReader<Uint8Array>,
  ): Promise<boolean> {
    const room = FCGI_MAX_WRITE_CONTENT - head.length;
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      while (size < room) {
        const { done, value } = await reader.read();
        if (this.#done) return false;
        if (done) break;
        const bytes = value instanceof Uint8Array ? value : toBytes(value);
        chunks.push(bytes);
        size += bytes.length;
      }
    } catch (error) {
      this.#reader = null;
      if (!this.#done) await this.#fail(error);
      return false;
    }
    const inHead = new Uint8Array(Math.min(size, room));
    const rest: Uint8Array[] = [];
    let at = 0;
    for (const chunk of chunks) {
      const take = Math.min(chunk.length, inHead.length - at);
      inHead.set(chunk.subarray(0, take), at);
      at += take;
      if (take < chunk.length) rest.push(chunk.subarray(take));
    }
    this.#host.write(headAndBodyRecord(this.id, head, inHead));
    for (const piece of rest) {
      if (!this.#writeStdout(piece)) {
        await this.#host.drained();
        if (this.#done) return false;
      }
    }
    return true;
  }

  #writeStdout(value: unknown): boolean {
    const bytes = value instanceof Uint8Array ? value : toBytes(value);
    const host = this.#host;
    // A small chunk is copied into a record of its own: one piece, next to
    // the header block in the same slab, instead of three.
    if (bytes.length <= SMALL_CHUNK) {
      return bytes.length === 0 || host.write(dataRecord(RecordType.STDOUT, this.id, bytes));
    }
    let ok = true;
    for (let at = 0; at < bytes.length; at += FCGI_MAX_WRITE_CONTENT) {
      const piece = at === 0 && bytes.length <= FCGI_MAX_WRITE_CONTENT
        ? bytes
        : bytes.subarray(at, at + FCGI_MAX_WRITE_CONTENT);
      host.write(dataHeader(RecordType.STDOUT, this.id, piece.length));
      const padding = paddingFor(piece.length);
      ok = host.write(piece);
      if (padding !== 0) ok = host.write(PADDINGS[padding]);
    }
    return ok;
  }

  /** Ends the STDOUT stream and sends END_REQUEST: the last record for this id. */
  #finish(appStatus: number): void {
    if (this.#done || this.#pendingEnd !== null) return;
    if (this.#bodyStillComing()) {
      // The handler answered before the web server finished sending the
      // body. END_REQUEST while the server is still writing STDIN kills
      // h2o 2.2 on a kept-alive connection (assertion in h2o_socket_export).
      // So the response ends now, the rest of the body is dropped as it
      // comes, and END_REQUEST follows the end of STDIN, or a short silence:
      // nginx stops sending the body once it has the response.
      this.#host.reply(emptyRecord(RecordType.STDOUT, this.id));
      this.#pendingEnd = appStatus;
      this.#stdin.release();
      this.#complete();
      this.#armDrain();
      return;
    }
    this.#endRequest(appStatus, true);
  }

  /** True when STDIN of a responder is still arriving (or announced and not yet here). */
  #bodyStillComing(): boolean {
    if (this.role !== Role.RESPONDER || this.#stdin.ended) return false;
    if (this.#stdinSeen) return true;
    // Nothing yet: wait only when a body was announced, so a server that
    // never sends STDIN for an empty body does not leave the request open.
    const params = this.#params;
    if (params === null) return false;
    const length = params.CONTENT_LENGTH;
    return (length !== undefined && /^[1-9]\d*$|^-1$/.test(length)) ||
      params.HTTP_TRANSFER_ENCODING !== undefined;
  }

  /** (Re)starts the wait for more STDIN before a deferred END_REQUEST goes out anyway. */
  #armDrain(): void {
    clearTimeout(this.#drainTimer);
    this.#drainTimer = setTimeout(() => {
      if (this.#pendingEnd !== null && !this.#done) this.#endRequest(this.#pendingEnd, false);
    }, STDIN_DRAIN_IDLE_MS);
    (this.#drainTimer as { unref?: () => void }).unref?.();
  }

  #endRequest(appStatus: number, closeStdout: boolean): void {
    this.#host.reply(
      endRecords(this.id, appStatus, ProtocolStatus.REQUEST_COMPLETE, closeStdout),
    );
    this.#close();
  }

  #close(): void {
    this.#done = true;
    clearTimeout(this.#drainTimer);
    this.#stdin.release();
    this.#data?.release();
    this.#complete();
    this.#host.finished(this);
  }

  /**
   * Aborts the request: fires `request.signal`, fails the body streams,
   * stops the response. With `reply` (FCGI_ABORT_REQUEST), END_REQUEST goes
   * out at once and nothing else is ever sent for this id.
   */
  abort(reason: FastCGIAbortError, reply: boolean): void {
    if (this.#done) return;
    if (this.#pendingEnd !== null) {
      // The response was complete: nothing left to abort.
      if (reply) this.#endRequest(this.#pendingEnd, false);
      else this.#close();
      return;
    }
    if (this.#request !== null) abortRequest(this.#request, reason);
    this.#stdin.abort(reason);
    this.#data?.abort(reason);
    this.#reader?.cancel(reason).catch(noop);
    if (reply) this.#host.reply(endRecords(this.id, APP_STATUS_ERROR));
    this.#close();
  }
}

/** The reason phrases of the answers webfcgi makes itself. */
const OWN_ANSWERS = {
  400: "Bad Request",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
} as const;

/** Body chunks up to this size are copied into one record. */
const SMALL_CHUNK = 4088;
/** PADDINGS[n]: n zero bytes. */
const PADDINGS = Array.from({ length: 8 }, (_, n) => PADDING.subarray(0, n));
const encoder = new TextEncoder();

function toBytes(value: unknown): Uint8Array {
  if (typeof value === "string") return encoder.encode(value);
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(`a Response body chunk must be a Uint8Array, not ${typeof value}`);
}
