// A raw HTTP/1.1 client over node:net for the interop suite. It sends
// exactly the bytes asked for (repeated headers, raw non-ASCII targets,
// %2F, chunked uploads) and reports exactly what came back: the status,
// every header line in order, body framing, per-chunk arrival times, and
// any stray bytes after the end of a response (a HEAD or 204 body that a
// server let through). It can also hang up mid-response (client abort).
import * as net from "node:net";
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";

export type HeaderList = Array<[string, string]>;

export interface HttpRequest {
  method?: string;
  /** The request target, sent as its UTF-8 bytes (so "é" goes out raw). */
  target: string;
  /** Header lines in order; repeats allowed. `Host` is added unless given (or `noHost`). */
  headers?: HeaderList;
  /** Send the target as these exact bytes instead (e.g. Latin-1, invalid UTF-8). */
  rawTarget?: Uint8Array;
  /** "HTTP/1.1" (default) or "HTTP/1.0". */
  version?: "HTTP/1.1" | "HTTP/1.0";
  /** Send no Host header at all. */
  noHost?: boolean;
  /** Content-Length framing for bytes; chunked for an iterable (unless a length header is given). */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  /** Keep the bytes of the body (default true); false keeps only the count and SHA-256. */
  collect?: boolean;
  /** Hang up after the response head: once `bytes` of body came, or `ms` passed. */
  destroyAfter?: { bytes?: number; ms?: number };
  /** Whole-request deadline in ms (default 30000). */
  timeout?: number;
}

export interface BodyChunk {
  /** ms after the request head was written */
  at: number;
  size: number;
}

export interface HttpResponse {
  status: number;
  reason: string;
  version: string;
  headers: HeaderList;
  /** Interim (1xx) statuses received before the final response. */
  interim: number[];
  body: Uint8Array;
  bytes: number;
  sha256: string;
  chunks: BodyChunk[];
  /** ms after the request head was written */
  headersAt: number;
  /** How the body was framed. */
  framing: "none" | "chunked" | "length" | "close";
  /** The body ended as its framing says (terminating chunk, full length, or EOF). */
  complete: boolean;
  /** We hung up on purpose (destroyAfter). */
  destroyed: boolean;
  /** Bytes the server sent after the end of the response (should be 0). */
  trailingBytes: number;
  get(name: string): string | null;
  getAll(name: string): string[];
  text(): string;
  json<T = unknown>(): T;
}

export interface Target {
  port: number;
  host?: string;
}

/** One request on a fresh connection, closed afterwards (`Connection: close`). */
export async function request(to: number | Target, req: HttpRequest): Promise<HttpResponse> {
  const conn = await HttpConnection.open(to);
  try {
    const headers = req.headers ?? [];
    const hasConnection = headers.some(([n]) => n.toLowerCase() === "connection");
    return await conn.request(
      { ...req, headers: hasConnection ? headers : [...headers, ["Connection", "close"]] },
    );
  } finally {
    conn.close();
  }
}

const CRLF2 = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");

/** A client connection; requests on it run one after the other (keep-alive reuse). */
export class HttpConnection {
  readonly socket: net.Socket;
  readonly hostHeader: string;
  #buf: Buffer = Buffer.alloc(0);
  #eof = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #busy = false;
  /** Number of requests sent on this connection. */
  requests = 0;

  private constructor(socket: net.Socket, hostHeader: string) {
    this.socket = socket;
    this.hostHeader = hostHeader;
    socket.on("data", (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#notify();
    });
    socket.on("end", () => {
      this.#eof = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.#eof = true;
      this.#notify();
    });
    socket.on("error", (error) => {
      this.#error = error;
      this.#eof = true;
      this.#notify();
    });
  }

  static open(to: number | Target): Promise<HttpConnection> {
    const target = typeof to === "number" ? { port: to } : to;
    const host = target.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port: target.port, host });
      socket.setNoDelay(true);
      const onError = (error: Error) => reject(error);
      socket.once("error", onError);
      socket.once("connect", () => {
        socket.off("error", onError);
        resolve(
          new HttpConnection(socket, `${host.includes(":") ? `[${host}]` : host}:${target.port}`),
        );
      });
    });
  }

  /** True once the server closed (or the socket failed). */
  get closed(): boolean {
    return this.#eof;
  }

  close(): void {
    this.socket.destroy();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Waits for more input; false at EOF. */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const before = this.#buf.length;
    while (this.#buf.length === before && !this.#eof) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    return this.#buf.length > before;
  }

  #take(n: number): Buffer {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    if (this.#busy) throw new Error("HttpConnection: one request at a time");
    this.#busy = true;
    this.requests++;
    const timeout = req.timeout ?? 30000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.socket.destroy();
    }, timeout);
    try {
      return await this.#exchange(req);
    } catch (error) {
      if (timedOut) {
        throw new Error(
          `HTTP ${req.method ?? "GET"} ${req.target}: no complete response within ${timeout} ms`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      this.#busy = false;
    }
  }

  async #exchange(req: HttpRequest): Promise<HttpResponse> {
    const method = req.method ?? "GET";
    const headers: HeaderList = [...(req.headers ?? [])];
    const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
    if (!has("host") && !req.noHost) headers.unshift(["Host", this.hostHeader]);
    const body = req.body;
    let chunkedUpload = false;
    if (body instanceof Uint8Array) {
      if (!has("content-length") && !has("transfer-encoding")) {
        headers.push(["Content-Length", String(body.length)]);
      }
    } else if (body !== undefined) {
      if (!has("content-length")) {
        chunkedUpload = true;
        if (!has("transfer-encoding")) headers.push(["Transfer-Encoding", "chunked"]);
      }
    }
    let head = "";
    for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
    head += "\r\n";
    const version = req.version ?? "HTTP/1.1";
    const headBytes = req.rawTarget === undefined
      ? Buffer.from(`${method} ${req.target} ${version}\r\n${head}`, "utf8")
      : Buffer.concat([
        Buffer.from(`${method} `),
        req.rawTarget,
        Buffer.from(` ${version}\r\n${head}`, "utf8"),
      ]);
    const started = performance.now();
    const socket = this.socket;
    const writing = (async () => {
      await write(socket, headBytes);
      if (body instanceof Uint8Array) {
        if (body.length > 0) await write(socket, body);
      } else if (body !== undefined) {
        for await (const piece of body) {
          if (this.#eof) return;
          if (piece.length === 0) continue;
          if (chunkedUpload) {
            await write(
              socket,
              Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, CRLF]),
            );
          } else await write(socket, piece);
        }
        if (chunkedUpload) await write(socket, Buffer.from("0\r\n\r\n"));
      }
    })();
    let writeError: unknown = null;
    writing.catch((error) => (writeError = error));
    try {
      const response = await this.#readResponse(method, req, started, headers);
      return response;
    } catch (error) {
      if (writeError !== null && !(error instanceof Error && error.message.includes("within"))) {
        throw new Error(
          `${(error as Error).message} (upload failed: ${(writeError as Error).message})`,
        );
      }
      throw error;
    }
  }

  async #readResponse(
    method: string,
    req: HttpRequest,
    started: number,
    requestHeaders: HeaderList,
  ): Promise<HttpResponse> {
    const interim: number[] = [];
    let status = 0;
    let reason = "";
    let version = "";
    let headers: HeaderList = [];
    let headersAt = 0;
    for (;;) {
      let end = this.#buf.indexOf(CRLF2);
      while (end < 0) {
        if (!(await this.#fill())) {
          const why = this.#error ? `: ${this.#error.message}` : "";
          throw new Error(
            `connection closed before a response head (${this.#buf.length} bytes: ${
              JSON.stringify(this.#buf.subarray(0, 200).toString("latin1"))
            })${why}`,
          );
        }
        end = this.#buf.indexOf(CRLF2);
      }
      const text = this.#take(end + 4).subarray(0, end).toString("latin1");
      const lines = text.split("\r\n");
      const match = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
      if (match === null) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
      version = match[1];
      status = Number(match[2]);
      reason = match[3] ?? "";
      headers = [];
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon <= 0) throw new Error(`bad header line: ${JSON.stringify(line)}`);
        headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
      }
      headersAt = performance.now() - started;
      if (status >= 100 && status < 200 && status !== 101) {
        interim.push(status);
        continue;
      }
      break;
    }
    const get = (name: string) => {
      const all = headers.filter(([n]) => n === name).map(([, v]) => v);
      return all.length === 0 ? null : all.join(", ");
    };
    const te = get("transfer-encoding");
    const cl = get("content-length");
    let framing: HttpResponse["framing"];
    if (method === "HEAD" || status === 204 || status === 304 || status < 200) framing = "none";
    else if (te !== null && /chunked/i.test(te)) framing = "chunked";
    else if (cl !== null) framing = "length";
    else framing = "close";

    const collect = req.collect ?? true;
    const hash = createHash("sha256");
    const kept: Uint8Array[] = [];
    const chunks: BodyChunk[] = [];
    let bytes = 0;
    let destroyed = false;
    const destroyAfter = req.destroyAfter;
    let destroyTimer: ReturnType<typeof setTimeout> | undefined;
    const hangUp = () => {
      destroyed = true;
      clearTimeout(destroyTimer);
      this.socket.destroy();
    };
    if (destroyAfter?.ms !== undefined) destroyTimer = setTimeout(hangUp, destroyAfter.ms);
    const deliver = (piece: Buffer) => {
      if (piece.length === 0) return;
      bytes += piece.length;
      chunks.push({ at: performance.now() - started, size: piece.length });
      hash.update(piece);
      if (collect) kept.push(new Uint8Array(piece));
      if (destroyAfter?.bytes !== undefined && bytes >= destroyAfter.bytes) hangUp();
    };

    let complete = false;
    try {
      if (framing === "none") complete = true;
      else if (framing === "length") {
        let left = Number(cl);
        if (!Number.isSafeInteger(left) || left < 0) throw new Error(`bad content-length ${cl}`);
        while (left > 0 && !destroyed) {
          if (this.#buf.length === 0 && !(await this.#fill())) break;
          const piece = this.#take(Math.min(left, this.#buf.length));
          left -= piece.length;
          deliver(piece);
        }
        complete = left === 0;
      } else if (framing === "chunked") {
        complete = await this.#readChunked(deliver, () => destroyed);
      } else {
        while (!destroyed) {
          if (this.#buf.length > 0) deliver(this.#take(this.#buf.length));
          if (!(await this.#fill())) break;
        }
        if (this.#buf.length > 0 && !destroyed) deliver(this.#take(this.#buf.length));
        complete = !destroyed && this.#error === null;
      }
    } finally {
      clearTimeout(destroyTimer);
    }

    // On a connection that ends with this response, anything more is stray.
    let trailingBytes = 0;
    const closing = /close/i.test(get("connection") ?? "") ||
      requestHeaders.some(([n, v]) => n.toLowerCase() === "connection" && /close/i.test(v)) ||
      version === "HTTP/1.0" || req.version === "HTTP/1.0";
    if (!destroyed && closing && framing !== "close") {
      const deadline = Date.now() + 2000;
      while (!this.#eof && Date.now() < deadline) {
        const waited = await Promise.race([
          this.#fill(),
          sleep(Math.max(1, deadline - Date.now())),
        ]);
        if (waited === undefined) break;
      }
      trailingBytes = this.#buf.length;
    } else if (!destroyed && framing !== "close" && this.#buf.length > 0) {
      trailingBytes = this.#buf.length;
    }

    const body = collect ? concat(kept, bytes) : new Uint8Array(0);
    return {
      status,
      reason,
      version,
      headers,
      interim,
      body,
      bytes,
      sha256: hash.digest("hex"),
      chunks,
      headersAt,
      framing,
      complete,
      destroyed,
      trailingBytes,
      get,
      getAll: (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v),
      text: () => new TextDecoder().decode(body),
      json: <T>() => JSON.parse(new TextDecoder().decode(body)) as T,
    };
  }

  async #readChunked(deliver: (piece: Buffer) => void, stop: () => boolean): Promise<boolean> {
    for (;;) {
      if (stop()) return false;
      let eol = this.#buf.indexOf(CRLF);
      while (eol < 0) {
        if (!(await this.#fill())) return false;
        eol = this.#buf.indexOf(CRLF);
      }
      const sizeLine = this.#take(eol + 2).subarray(0, eol).toString("latin1");
      const size = parseInt(sizeLine.split(";")[0].trim(), 16);
      if (!Number.isFinite(size) || size < 0) {
        throw new Error(`bad chunk size line ${JSON.stringify(sizeLine)}`);
      }
      if (size === 0) {
        // Trailers, then the blank line.
        for (;;) {
          let end = this.#buf.indexOf(CRLF);
          while (end < 0) {
            if (!(await this.#fill())) return false;
            end = this.#buf.indexOf(CRLF);
          }
          const line = this.#take(end + 2);
          if (line.length === 2) return true;
        }
      }
      let left = size;
      while (left > 0) {
        if (stop()) return false;
        if (this.#buf.length === 0 && !(await this.#fill())) return false;
        const piece = this.#take(Math.min(left, this.#buf.length));
        left -= piece.length;
        deliver(piece);
      }
      while (this.#buf.length < 2) {
        if (stop()) return false;
        if (!(await this.#fill())) return false;
      }
      this.#take(2);
    }
  }
}

function write(socket: net.Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return reject(new Error("socket closed"));
    socket.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
