// A raw FastCGI client for tests, written apart from src/protocol on
// purpose: the server is checked against an independent reading of the spec.
import * as net from "node:net";

export const T = {
  BEGIN: 1,
  ABORT: 2,
  END: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11,
} as const;

export interface Rec {
  type: number;
  id: number;
  content: Uint8Array;
  padding: number;
}

export type Target = { port: number; hostname?: string } | { path: string };

/** One record; padding defaults to alignment on 8. */
export function rec(
  type: number,
  id: number,
  content: Uint8Array = new Uint8Array(0),
  padding?: number,
): Uint8Array {
  const pad = padding ?? ((8 - (content.length % 8)) % 8);
  const out = new Uint8Array(8 + content.length + pad);
  out[0] = 1;
  out[1] = type;
  out[2] = id >> 8;
  out[3] = id & 255;
  out[4] = content.length >> 8;
  out[5] = content.length & 255;
  out[6] = pad;
  out.set(content, 8);
  return out;
}

function len(n: number): number[] {
  return n < 128 ? [n] : [((n >>> 24) & 0x7f) | 0x80, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** Name-value pairs, in the given order (repeats allowed). */
export function pairs(list: Array<[string, string]> | Record<string, string>): Uint8Array {
  const entries = Array.isArray(list) ? list : Object.entries(list);
  const parts: number[] = [];
  const enc = new TextEncoder();
  for (const [name, value] of entries) {
    const n = enc.encode(name);
    const v = enc.encode(value);
    parts.push(...len(n.length), ...len(v.length), ...n, ...v);
  }
  return new Uint8Array(parts);
}

export function begin(id: number, role = 1, keepConn = false): Uint8Array {
  return rec(T.BEGIN, id, new Uint8Array([0, role, keepConn ? 1 : 0, 0, 0, 0, 0, 0]));
}

export function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Records for a stream: content split into records of at most `size` bytes, then the empty one. */
export function stream(type: number, id: number, content: Uint8Array, size = 65528): Uint8Array {
  const out: Uint8Array[] = [];
  for (let at = 0; at < content.length; at += size) {
    out.push(rec(type, id, content.subarray(at, at + size)));
  }
  out.push(rec(type, id));
  return concat(out);
}

export interface RequestSpec {
  id?: number;
  role?: number;
  keepConn?: boolean;
  params: Array<[string, string]> | Record<string, string>;
  stdin?: Uint8Array;
  data?: Uint8Array;
}

/** The bytes of a whole request. */
export function requestBytes(spec: RequestSpec): Uint8Array {
  const id = spec.id ?? 1;
  const parts = [
    begin(id, spec.role ?? 1, spec.keepConn ?? false),
    stream(T.PARAMS, id, pairs(spec.params)),
  ];
  parts.push(stream(T.STDIN, id, spec.stdin ?? new Uint8Array(0)));
  if (spec.data !== undefined) parts.push(stream(T.DATA, id, spec.data));
  return concat(parts);
}

export interface Reply {
  id: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  appStatus: number;
  protocolStatus: number;
  records: Rec[];
}

/** A connection that parses records as they come and groups them by request id. */
export class RawConn {
  readonly socket: net.Socket;
  readonly records: Rec[] = [];
  readonly chunks: Uint8Array[] = [];
  closed: Promise<void>;
  isClosed = false;
  #buf = new Uint8Array(0);
  #waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        this.isClosed = true;
        resolve();
        this.#wake();
      });
    });
  }

  static connect(target: Target): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = "path" in target
        ? net.connect({ path: target.path })
        : net.connect({ port: target.port, host: target.hostname ?? "127.0.0.1" });
      socket.once("connect", () => resolve(new RawConn(socket)));
      socket.once("error", reject);
    });
  }

  #onData(chunk: Uint8Array): void {
    this.chunks.push(new Uint8Array(chunk));
    let buf = this.#buf.length ? concat([this.#buf, chunk]) : new Uint8Array(chunk);
    while (buf.length >= 8) {
      const clen = (buf[4] << 8) | buf[5];
      const total = 8 + clen + buf[6];
      if (buf.length < total) break;
      if (buf[0] !== 1) throw new Error(`bad version from server: ${buf[0]}`);
      this.records.push({
        type: buf[1],
        id: (buf[2] << 8) | buf[3],
        content: buf.slice(8, 8 + clen),
        padding: buf[6],
      });
      buf = buf.subarray(total);
    }
    this.#buf = buf.slice();
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(bytes, (e) => (e ? reject(e) : resolve()))
    );
  }

  /** Waits until `predicate` holds over the records, or the connection closes, or `ms` pass. */
  async until(predicate: () => boolean, ms = 10000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!predicate()) {
      if (this.isClosed || Date.now() > deadline) return predicate();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** The reply to request `id`, once its END_REQUEST came (throws if it does not). */
  async reply(id = 1, ms = 10000): Promise<Reply> {
    const ok = await this.until(
      () => this.records.some((r) => r.type === T.END && r.id === id),
      ms,
    );
    if (!ok) throw new Error(`no END_REQUEST for id ${id} (closed: ${this.isClosed})`);
    return collect(this.records, id);
  }

  /** Forgets the records received so far (for the next request on a kept connection). */
  clear(): void {
    this.records.length = 0;
    this.chunks.length = 0;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function collect(records: Rec[], id: number): Reply {
  const mine = records.filter((r) => r.id === id);
  const end = mine.find((r) => r.type === T.END);
  const body = end?.content ?? new Uint8Array(8);
  return {
    id,
    stdout: concat(mine.filter((r) => r.type === T.STDOUT).map((r) => r.content)),
    stderr: concat(mine.filter((r) => r.type === T.STDERR).map((r) => r.content)),
    appStatus: ((body[0] << 24) >>> 0) + (body[1] << 16) + (body[2] << 8) + body[3],
    protocolStatus: body[4],
    records: mine,
  };
}

export interface CgiResponse {
  status: number;
  statusLine: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
  text: string;
  head: string;
}

/** Splits a CGI response (STDOUT) into status, headers and body. */
export function parseCgi(stdout: Uint8Array): CgiResponse {
  let end = -1;
  for (let i = 0; i + 3 < stdout.length; i++) {
    if (stdout[i] === 13 && stdout[i + 1] === 10 && stdout[i + 2] === 13 && stdout[i + 3] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error("no end of CGI headers");
  const head = new TextDecoder("latin1").decode(stdout.subarray(0, end));
  const headers: Array<[string, string]> = [];
  let status = 200;
  let statusLine = "";
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") {
      statusLine = value;
      status = Number(value.slice(0, 3));
    } else headers.push([name.toLowerCase(), value]);
  }
  const body = stdout.slice(end + 4);
  return { status, statusLine, headers, body, text: new TextDecoder().decode(body), head };
}

/** One request on a fresh connection; returns the parsed reply. */
export async function fetchRaw(
  target: Target,
  spec: RequestSpec,
): Promise<Reply & { cgi: CgiResponse; conn: RawConn }> {
  const conn = await RawConn.connect(target);
  await conn.write(requestBytes(spec));
  const reply = await conn.reply(spec.id ?? 1);
  return { ...reply, cgi: parseCgi(reply.stdout), conn };
}

export const GET = (uri: string, extra: Record<string, string> = {}): Record<string, string> => ({
  REQUEST_METHOD: "GET",
  REQUEST_URI: uri,
  SCRIPT_NAME: uri.split("?")[0],
  QUERY_STRING: uri.split("?")[1] ?? "",
  HTTP_HOST: "example.test",
  SERVER_NAME: "example.test",
  SERVER_PORT: "80",
  REMOTE_ADDR: "127.0.0.1",
  REMOTE_PORT: "40000",
  ...extra,
});
