// A FastCGI wire tap: a transparent relay between a web server and the app
// that parses the records flowing through it. Tests read what the server
// really did (connections opened, FCGI_KEEP_CONN, request ids, roles,
// GET_VALUES, the params of each request) and what the app sent back (was
// the whole CGI header block in the first STDOUT record?) without
// instrumenting the library. Independent of src/protocol on purpose.
import * as net from "node:net";

export type SocketAddr = { path: string } | { port: number; host?: string };

export interface TapRequest {
  /** Connection number (1 = first connection through the tap). */
  conn: number;
  id: number;
  role: number;
  keepConn: boolean;
  /** The decoded params, once the empty PARAMS record came. */
  params: Record<string, string[]> | null;
  /** The param names in wire order, repeats included (params groups repeats). */
  paramNames: string[] | null;
  /** ms since the tap started */
  at: number;
  /** The first STDOUT record from the app held the whole header block (up to CRLF CRLF). */
  headerInFirstStdout: boolean | null;
  /** END_REQUEST seen from the app. */
  ended: boolean;
  /** Requests in flight on this connection when this one began (itself included): >1 = multiplexed. */
  inFlight: number;
  /** Its id was still in flight on this connection (a protocol violation by the server). */
  idInUse: boolean;
}

export interface RecordSink {
  (type: number, id: number, content: Uint8Array | null): void;
}

/** Incremental record parser; copies content only for records `wants(type, id)` selects. */
export class RecordParser {
  #header = new Uint8Array(8);
  #have = 0;
  #left = 0; // content + padding bytes left in the current record
  #contentLeft = 0;
  #content: Uint8Array | null = null;
  #at = 0;
  #type = 0;
  #id = 0;
  constructor(private wants: (type: number, id: number) => boolean, private sink: RecordSink) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#left === 0 && this.#have < 8) {
        const n = Math.min(8 - this.#have, chunk.length - i);
        this.#header.set(chunk.subarray(i, i + n), this.#have);
        this.#have += n;
        i += n;
        if (this.#have < 8) return;
        const h = this.#header;
        this.#type = h[1];
        this.#id = (h[2] << 8) | h[3];
        this.#contentLeft = (h[4] << 8) | h[5];
        this.#left = this.#contentLeft + h[6];
        this.#content = this.wants(this.#type, this.#id) ? new Uint8Array(this.#contentLeft) : null;
        this.#at = 0;
        if (this.#left === 0) this.#emit();
        continue;
      }
      const n = Math.min(this.#left, chunk.length - i);
      if (this.#content !== null && this.#at < this.#contentLeft) {
        const take = Math.min(n, this.#contentLeft - this.#at);
        this.#content.set(chunk.subarray(i, i + take), this.#at);
        this.#at += take;
      }
      this.#left -= n;
      i += n;
      if (this.#left === 0) this.#emit();
    }
  }

  #emit(): void {
    this.#have = 0;
    this.sink(this.#type, this.#id, this.#content);
    this.#content = null;
  }
}

function decodePairs(bytes: Uint8Array, names: string[] = []): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  const decoder = new TextDecoder();
  let i = 0;
  const len = () => {
    const b = bytes[i];
    if (b < 128) {
      i += 1;
      return b;
    }
    const n = ((b & 0x7f) << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3];
    i += 4;
    return n;
  };
  while (i < bytes.length) {
    const nl = len();
    const vl = len();
    const name = decoder.decode(bytes.subarray(i, i + nl));
    i += nl;
    const value = decoder.decode(bytes.subarray(i, i + vl));
    i += vl;
    (out[name] ??= []).push(value);
    names.push(name);
  }
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const CRLFCRLF = [13, 10, 13, 10];

function hasHeaderEnd(bytes: Uint8Array): boolean {
  outer: for (let i = 0; i + 3 < bytes.length; i++) {
    for (let k = 0; k < 4; k++) if (bytes[i + k] !== CRLFCRLF[k]) continue outer;
    return true;
  }
  return false;
}

export class FcgiTap {
  /** Where the web server should connect. */
  readonly addr: SocketAddr;
  /** Connections accepted so far. */
  connections = 0;
  /** Connections open now. */
  open = 0;
  /** Requests seen (BEGIN_REQUEST), in order. */
  readonly requests: TapRequest[] = [];
  /** FCGI_GET_VALUES records seen. */
  getValues = 0;
  /** The app's FCGI_GET_VALUES_RESULT answers, decoded. */
  readonly getValuesResults: Array<Record<string, string[]>> = [];
  #server: net.Server;
  #sockets = new Set<net.Socket>();
  #started = Date.now();

  private constructor(server: net.Server, addr: SocketAddr) {
    this.#server = server;
    this.addr = addr;
  }

  /** Listens on `listen` (a Unix path, or TCP port 0) and relays to `upstream`. */
  static start(listen: SocketAddr, upstream: SocketAddr): Promise<FcgiTap> {
    let tap: FcgiTap;
    const server = net.createServer(
      { allowHalfOpen: true },
      (client) => tap.#relay(client, upstream),
    );
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      const done = () => {
        server.off("error", reject);
        const bound = server.address();
        const addr: SocketAddr = typeof bound === "object" && bound !== null
          ? { port: bound.port, host: "127.0.0.1" }
          : { path: (listen as { path: string }).path };
        tap = new FcgiTap(server, addr);
        resolve(tap);
      };
      if ("path" in listen) server.listen({ path: listen.path }, done);
      else server.listen({ port: listen.port, host: listen.host ?? "127.0.0.1" }, done);
    });
  }

  /** Requests whose REQUEST_URI contains `needle`. */
  find(needle: string): TapRequest[] {
    return this.requests.filter((r) =>
      (r.params?.REQUEST_URI ?? []).some((u) => u.includes(needle))
    );
  }

  #relay(client: net.Socket, upstream: SocketAddr): void {
    const conn = ++this.connections;
    this.open++;
    const app = "path" in upstream
      ? net.connect({ path: upstream.path, allowHalfOpen: true })
      : net.connect({
        port: upstream.port,
        host: upstream.host ?? "127.0.0.1",
        allowHalfOpen: true,
      });
    this.#sockets.add(client);
    this.#sockets.add(app);
    const byId = new Map<number, TapRequest>();
    const live = new Map<number, TapRequest>(); // begun, no END_REQUEST yet
    const paramChunks = new Map<number, Uint8Array[]>();
    const fromServer = new RecordParser(
      (type) => type === 1 || type === 4 || type === 9,
      (type, id, content) => {
        if (type === 1 && content !== null) {
          const request: TapRequest = {
            conn,
            id,
            role: (content[0] << 8) | content[1],
            keepConn: (content[2] & 1) === 1,
            params: null,
            paramNames: null,
            at: Date.now() - this.#started,
            headerInFirstStdout: null,
            ended: false,
            inFlight: 0,
            idInUse: live.has(id),
          };
          live.set(id, request);
          request.inFlight = live.size;
          byId.set(id, request);
          paramChunks.set(id, []);
          this.requests.push(request);
        } else if (type === 4 && content !== null) {
          const chunks = paramChunks.get(id);
          if (chunks === undefined) return;
          if (content.length > 0) chunks.push(content);
          else {
            const request = byId.get(id);
            if (request !== undefined) {
              request.paramNames = [];
              request.params = decodePairs(concat(chunks), request.paramNames);
            }
            paramChunks.delete(id);
          }
        } else if (type === 9) this.getValues++;
      },
    );
    const fromApp = new RecordParser(
      (type, id) => type === 10 || (type === 6 && byId.get(id)?.headerInFirstStdout === null),
      (type, id, content) => {
        if (type === 10 && content !== null) this.getValuesResults.push(decodePairs(content));
        const request = byId.get(id);
        if (request === undefined) return;
        if (
          type === 6 && content !== null && content.length > 0 &&
          request.headerInFirstStdout === null
        ) {
          request.headerInFirstStdout = hasHeaderEnd(content);
        } else if (type === 3) {
          request.ended = true;
          if (live.get(id) === request) live.delete(id);
        }
      },
    );
    client.on("data", (chunk: Uint8Array) => fromServer.push(chunk));
    app.on("data", (chunk: Uint8Array) => fromApp.push(chunk));
    client.pipe(app);
    app.pipe(client);
    let closed = 0;
    const onClose = () => {
      // A side that is fully gone takes the other with it (a reset stays a reset).
      client.destroy();
      app.destroy();
      if (++closed === 2) this.open--;
    };
    client.on("error", () => {});
    app.on("error", () => {});
    client.once("close", onClose);
    app.once("close", onClose);
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
