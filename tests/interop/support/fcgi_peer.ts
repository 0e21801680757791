// Clients for the server-less peers: `cgi-fcgi -bind -connect` (libfcgi's
// reference bridge: CGI environment in, one FastCGI request out) and a raw
// FastCGI connection (roles, FCGI_KEEP_CONN, hanging up mid-response) built
// on the independent encoders of tests/support/fcgi_client.ts.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as net from "node:net";
import { Buffer } from "node:buffer";
import { requestBytes } from "../../support/fcgi_client.ts";
import { RecordParser, type SocketAddr } from "./tap.ts";

export interface PeerRequest {
  method?: string;
  /** REQUEST_URI (path and query). */
  uri: string;
  /** Request headers as [name, value]; become HTTP_* params. Repeats stay repeats on the raw client. */
  headers?: Array<[string, string]>;
  body?: Uint8Array;
  /** 1 responder (default), 2 authorizer. */
  role?: number;
  /** Extra params, e.g. REMOTE_USER. */
  params?: Array<[string, string]>;
  /** Keep the body bytes (default true); false: count + SHA-256 only. */
  collect?: boolean;
}

export interface PeerResponse {
  status: number;
  /** Header lines in order, names as sent (not lower-cased). */
  headers: Array<[string, string]>;
  body: Uint8Array;
  bytes: number;
  sha256: string;
  stderr: string;
  /** Raw client only: the first STDOUT record held the whole header block. */
  headerInFirstStdout: boolean | null;
  get(name: string): string | null;
  getAll(name: string): string[];
  text(): string;
  json<T = unknown>(): T;
}

/** The CGI params of a request, as a web server would send them. */
export function cgiParams(req: PeerRequest): Array<[string, string]> {
  const [path, query = ""] = splitOnce(req.uri, "?");
  const params: Array<[string, string]> = [
    ["GATEWAY_INTERFACE", "CGI/1.1"],
    ["REQUEST_METHOD", req.method ?? "GET"],
    ["REQUEST_URI", req.uri],
    ["SCRIPT_NAME", "/app"],
    ["PATH_INFO", path.startsWith("/app") ? path.slice(4) : path],
    ["QUERY_STRING", query],
    ["SERVER_NAME", "example.test"],
    ["SERVER_PORT", "8080"],
    ["SERVER_PROTOCOL", "HTTP/1.1"],
    ["REMOTE_ADDR", "127.0.0.1"],
    ["REMOTE_PORT", "40000"],
    ["HTTP_HOST", "example.test:8080"],
  ];
  for (const [name, value] of req.headers ?? []) {
    const key = name.toUpperCase().replaceAll("-", "_");
    if (key === "CONTENT_TYPE" || key === "CONTENT_LENGTH") params.push([key, value]);
    else params.push([`HTTP_${key}`, value]);
  }
  if (req.body !== undefined) params.push(["CONTENT_LENGTH", String(req.body.length)]);
  params.push(...(req.params ?? []));
  return params;
}

function splitOnce(text: string, sep: string): [string, string?] {
  const at = text.indexOf(sep);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/** Splits CGI output into status, headers and body (hashing the body as it goes). */
class CgiParser {
  head: string | null = null;
  #pending: Uint8Array[] = [];
  #kept: Uint8Array[] = [];
  #hash = createHash("sha256");
  bytes = 0;
  constructor(private collect: boolean) {}

  push(chunk: Uint8Array): void {
    if (this.head !== null) return this.#body(chunk);
    this.#pending.push(chunk);
    const all = Buffer.concat(this.#pending);
    const end = all.indexOf("\r\n\r\n");
    if (end < 0) return;
    this.head = all.subarray(0, end).toString("latin1");
    this.#pending = [];
    this.#body(all.subarray(end + 4));
  }

  #body(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    this.#hash.update(chunk);
    if (this.collect) this.#kept.push(new Uint8Array(chunk));
  }

  finish(stderr: string, headerInFirstStdout: boolean | null): PeerResponse {
    if (this.head === null) {
      throw new Error(
        `no CGI header block in the output (${
          Buffer.concat(this.#pending).subarray(0, 300).toString("latin1")
        }); stderr: ${stderr}`,
      );
    }
    let status = 200;
    const headers: Array<[string, string]> = [];
    for (const line of this.head.split("\r\n")) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === "status") status = Number(value.slice(0, 3));
      else headers.push([name, value]);
    }
    const body = new Uint8Array(Buffer.concat(this.#kept));
    const getAll = (name: string) =>
      headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    return {
      status,
      headers,
      body,
      bytes: this.bytes,
      sha256: this.#hash.digest("hex"),
      stderr,
      headerInFirstStdout,
      get: (name) => getAll(name).length === 0 ? null : getAll(name).join(", "),
      getAll,
      text: () => new TextDecoder().decode(body),
      json: <T>() => JSON.parse(new TextDecoder().decode(body)) as T,
    };
  }
}

/** "host:port" or a socket path, as cgi-fcgi's -connect takes it. */
export function connectName(addr: SocketAddr): string {
  return "path" in addr ? addr.path : `${addr.host ?? "127.0.0.1"}:${addr.port}`;
}

/**
 * One request through `cgi-fcgi -bind -connect`: the params are its whole
 * environment (nothing else leaks in), the body its stdin.
 */
export function cgiFcgi(
  program: string,
  addr: SocketAddr,
  req: PeerRequest,
  timeout = 60000,
): Promise<PeerResponse> {
  const env: Record<string, string> = {};
  for (const [name, value] of cgiParams(req)) env[name] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ["-bind", "-connect", connectName(addr)], {
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const parser = new CgiParser(req.collect ?? true);
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`cgi-fcgi did not finish within ${timeout} ms`));
    }, timeout);
    child.stdout!.on("data", (chunk: Uint8Array) => parser.push(chunk));
    child.stderr!.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.stdin!.on("error", () => {});
    child.stdin!.end(req.body ?? new Uint8Array(0));
    child.once("close", (code) => {
      clearTimeout(timer);
      try {
        const response = parser.finish(stderr, null);
        if (code !== 0 && code !== null) response.stderr += `\n[cgi-fcgi exit ${code}]`;
        resolve(response);
      } catch (error) {
        reject(new Error(`${(error as Error).message} [cgi-fcgi exit ${code}]`));
      }
    });
  });
}

export interface RawOptions {
  keepConn?: boolean;
  id?: number;
  /** Hang up once this many body bytes came. */
  destroyAfterBytes?: number;
  timeout?: number;
}

/** A raw FastCGI connection: requests one after the other, records parsed as they come. */
export class RawFcgiConnection {
  readonly socket: net.Socket;
  closed = false;
  readonly whenClosed: Promise<void>;
  #onRecord: ((type: number, id: number, content: Uint8Array | null) => void) | null = null;
  #parser: RecordParser;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.#parser = new RecordParser(
      () => true,
      (type, id, content) => this.#onRecord?.(type, id, content),
    );
    socket.on("data", (chunk: Uint8Array) => this.#parser.push(chunk));
    socket.on("error", () => {});
    this.whenClosed = new Promise((resolve) =>
      socket.once("close", () => {
        this.closed = true;
        this.#onRecord?.(-1, 0, null);
        resolve();
      })
    );
  }

  static open(addr: SocketAddr): Promise<RawFcgiConnection> {
    return new Promise((resolve, reject) => {
      const socket = "path" in addr
        ? net.connect({ path: addr.path })
        : net.connect({ port: addr.port, host: addr.host ?? "127.0.0.1" });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawFcgiConnection(socket));
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  request(
    req: PeerRequest,
    options: RawOptions = {},
  ): Promise<PeerResponse & { destroyed: boolean }> {
    const id = options.id ?? 1;
    const parser = new CgiParser(req.collect ?? true);
    let stderr = "";
    let firstStdout: boolean | null = null;
    let destroyed = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#onRecord = null;
        reject(new Error(`no END_REQUEST within ${options.timeout ?? 60000} ms`));
      }, options.timeout ?? 60000);
      const finish = () => {
        clearTimeout(timer);
        this.#onRecord = null;
        try {
          resolve({ ...parser.finish(stderr, firstStdout), destroyed });
        } catch (error) {
          reject(error);
        }
      };
      this.#onRecord = (type, rid, content) => {
        if (type === -1) {
          if (destroyed) return finish();
          clearTimeout(timer);
          this.#onRecord = null;
          return reject(new Error("connection closed before END_REQUEST"));
        }
        if (rid !== id || content === null) return;
        if (type === 6 && content.length > 0) {
          if (firstStdout === null) firstStdout = Buffer.from(content).includes("\r\n\r\n");
          parser.push(content);
          if (
            options.destroyAfterBytes !== undefined && parser.bytes >= options.destroyAfterBytes &&
            !destroyed
          ) {
            destroyed = true;
            this.socket.destroy();
          }
        } else if (type === 7) stderr += new TextDecoder().decode(content);
        else if (type === 3) finish();
      };
      this.socket.write(
        requestBytes({
          id,
          role: req.role ?? 1,
          keepConn: options.keepConn ?? false,
          params: cgiParams(req),
          stdin: req.body ?? new Uint8Array(0),
        }),
      );
    });
  }
}

/** One request on a fresh raw connection. */
export async function rawQuery(
  addr: SocketAddr,
  req: PeerRequest,
  options: RawOptions = {},
): Promise<PeerResponse> {
  const conn = await RawFcgiConnection.open(addr);
  try {
    return await conn.request(req, options);
  } finally {
    conn.close();
  }
}
