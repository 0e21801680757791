// A minimal raw FastCGI client for the idle-connection run: one keep-conn
// GET at a time on one socket. Written from the spec, apart from src/, like
// tests/support/fcgi_client.ts.
import * as net from "node:net";

const BEGIN_REQUEST = 1, END_REQUEST = 3, PARAMS = 4, STDIN = 5, STDOUT = 6;
const enc = new TextEncoder();
const dec = new TextDecoder();

function record(type, content = new Uint8Array(0)) {
  const padding = (8 - (content.length % 8)) % 8;
  const out = new Uint8Array(8 + content.length + padding);
  out.set([1, type, 0, 1, content.length >> 8, content.length & 255, padding, 0]);
  out.set(content, 8);
  return out;
}

function pairs(params) {
  const parts = [];
  for (const [name, value] of Object.entries(params)) {
    const n = enc.encode(name), v = enc.encode(value);
    for (const length of [n.length, v.length]) {
      parts.push(
        length < 128
          ? [length]
          : [(length >>> 24) | 0x80, (length >>> 16) & 255, (length >>> 8) & 255, length & 255],
      );
    }
    parts.push(n, v);
  }
  const flat = parts.flatMap((p) => Array.from(p));
  return new Uint8Array(flat);
}

/** The bytes of one keep-conn GET (request id 1). */
export function getRequest(uri) {
  const params = pairs({
    REQUEST_METHOD: "GET",
    REQUEST_URI: uri,
    SCRIPT_NAME: uri.split("?")[0],
    QUERY_STRING: uri.split("?")[1] ?? "",
    SERVER_PROTOCOL: "HTTP/1.1",
    HTTP_HOST: "idle.test",
    SERVER_NAME: "idle.test",
    SERVER_PORT: "80",
    REMOTE_ADDR: "127.0.0.1",
    REMOTE_PORT: "40000",
  });
  const parts = [
    record(BEGIN_REQUEST, new Uint8Array([0, 1, 1, 0, 0, 0, 0, 0])), // responder, FCGI_KEEP_CONN
    record(PARAMS, params),
    record(PARAMS),
    record(STDIN),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One FastCGI connection; `closed` turns true when the peer closes it. */
export class FcgiConn {
  closed = false;
  #socket;
  #buffer = new Uint8Array(0);
  #stdout = [];
  #waiting = null;

  constructor(socket) {
    this.#socket = socket;
    socket.on("data", (chunk) => this.#onData(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.#waiting?.reject(new Error("connection closed"));
      this.#waiting = null;
    });
  }

  /** Connects to a Unix socket (bounded: `ms`). */
  static connect(path, ms = 10000) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error("connect timed out"));
      }, ms);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new FcgiConn(socket));
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Sends a GET and resolves with { status, body } (bounded: `ms`). */
  get(uri, ms = 10000) {
    if (this.closed) return Promise.reject(new Error("connection closed"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = null;
        reject(new Error(`no response within ${ms} ms`));
      }, ms);
      this.#stdout = [];
      this.#waiting = {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#socket.write(getRequest(uri));
    });
  }

  close() {
    this.#socket.destroy();
  }

  #onData(chunk) {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    let at = 0;
    while (joined.length - at >= 8) {
      const length = (joined[at + 4] << 8) | joined[at + 5];
      const end = at + 8 + length + joined[at + 6];
      if (joined.length < end) break;
      const type = joined[at + 1];
      if (type === STDOUT) this.#stdout.push(joined.slice(at + 8, at + 8 + length));
      else if (type === END_REQUEST) this.#finish();
      at = end;
    }
    this.#buffer = joined.slice(at);
  }

  #finish() {
    const text = this.#stdout.map((part) => dec.decode(part, { stream: true })).join("");
    const split = text.indexOf("\r\n\r\n");
    const head = split < 0 ? text : text.slice(0, split);
    const status = Number(/^Status: (\d{3})/im.exec(head)?.[1] ?? 200);
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.resolve({ status, body: split < 0 ? "" : text.slice(split + 4) });
  }
}
