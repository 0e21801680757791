// What a web server module provides to the interop suite. See
// tests/interop/README.md for how to add one.
import type { SocketAddr } from "../tap.ts";

/**
 * What the cases expect from a variant. BASELINE is the common behaviour; a
 * variant overrides only what differs and says why (`why`), which becomes
 * the "expected-difference: <why>" outcome of the cases that check it.
 */
export interface Traits {
  /** request.url keeps the port of the client's Host header. */
  hostPort: boolean;
  /** The host of request.url for an HTTP/1.0 request without Host ("" = 127.0.0.1:<server port>). */
  hostWithoutHeader: string;
  /** `Cookie: k1=v1` + `Cookie: k2=v2` as the app sees them (after the library's merge). */
  cookie: string;
  /** `X-Dup: a` + `X-Dup: b` as the app sees them. */
  dupHeader: string;
  /** A raw UTF-8 byte in the request target reaches the app (else: that status). */
  rawUtf8Target: true | number;
  /** Raw bytes that are not UTF-8 (0xFF 0xE9) in the request target reach the app (else: that status). */
  rawNonUtf8Target: true | number;
  /** 28 KB of request headers (4 x 7 KB) reach the app (else: the status the server answers). */
  bigRequestHeaders: true | number;
  /** A `%2F` in the path reaches the app (else: that status). */
  encodedSlash: true | number;
  /** A chunked upload reaches the app with a Content-Length (the server buffered it). */
  chunkedUploadLength: boolean;
  /** Chunked uploads are accepted (else: that status). */
  chunkedUpload: true | number;
  /** The request body streams to the app while the client is still sending (no request buffering). */
  streamsRequestBody: boolean;
  /** Response bodies stream through (SSE events arrive spread out, not at the end). */
  streams: boolean;
  /** ... also when the app sends `X-Accel-Buffering: no`. */
  streamsWithAccelNo: boolean;
  /** The explicit redirect status reaches the client (else: the status it becomes). */
  redirectStatus: true | number;
  /**
   * 204 and 304 on a kept-alive client connection come with
   * `Transfer-Encoding: chunked` and a stray `0\r\n\r\n` chunk after them,
   * which the next response on that connection then starts with.
   */
  bodylessChunked: boolean;
  /** A 5 KB response header block goes through (else: the status the server answers). */
  bigHeaders: true | number;
  /** A client disconnect closes the FastCGI connection, so request.signal fires. */
  disconnectAborts: boolean;
  /**
   * ... also while another request is in flight on the same FastCGI
   * connection (else only once the connection's other requests are done).
   */
  disconnectAbortsShared: boolean;
  /** Sequential requests reuse one FastCGI connection (FCGI_KEEP_CONN=1). */
  keepConn: boolean;
  /**
   * With keepConn: a client connection's requests stay on one FastCGI
   * connection (else they may hop between pooled ones, opening none).
   */
  stickyConn: boolean;
  /** Concurrent requests share one FastCGI connection (FCGI_GET_VALUES, then several ids in flight). */
  multiplexes: boolean;
  /** The client's Authorization header reaches the app. */
  authorization: boolean;
}

export const BASELINE: Traits = {
  hostPort: true,
  hostWithoutHeader: "",
  cookie: "k1=v1; k2=v2",
  dupHeader: "a, b",
  rawUtf8Target: true,
  rawNonUtf8Target: true,
  bigRequestHeaders: true,
  encodedSlash: true,
  chunkedUploadLength: true,
  chunkedUpload: true,
  streamsRequestBody: true,
  streams: true,
  streamsWithAccelNo: true,
  redirectStatus: true,
  bodylessChunked: false,
  bigHeaders: true,
  disconnectAborts: true,
  disconnectAbortsShared: true,
  keepConn: true,
  stickyConn: true,
  multiplexes: false,
  authorization: true,
};

export interface VariantSpec {
  /** Short id used in results and test names ("stock", "tuned", "spawn"). */
  name: string;
  /** One line for docs/interop.md. */
  description: string;
  /**
   * How this variant reaches the app: "tcp" / "unix" = the suite runs the
   * app in-process (behind a wire tap) and passes `appAddr`; "spawn" = the
   * server starts the app itself from `spawnCommand` (socket on fd 0).
   */
  app: "tcp" | "unix" | "spawn";
  /** Where this variant differs from BASELINE. */
  expect?: Partial<Traits>;
  /** Why, for every key of `expect` that differs from BASELINE. */
  why?: Partial<Record<keyof Traits, string>>;
  /** Put the wire tap between server and app (default true; "tcp"/"unix" only). */
  tap?: boolean;
  /** Cases to leave out for this variant, with the reason (shown in the test name). */
  skip?: Record<string, string>;
}

export interface StartOptions {
  /** A fresh temp dir for this instance: config, pid, logs, temp paths go here. */
  dir: string;
  /** Where the app listens (variants with app "tcp" or "unix"). */
  appAddr?: SocketAddr;
  /** argv that starts the app (variants with app "spawn"); it serves fd 0. */
  spawnCommand?: string[];
}

export interface RunningServer {
  name: string;
  variant: string;
  /** HTTP port on 127.0.0.1. */
  port: number;
  /** Stops the server by pid (and its process group); never throws. */
  stop(): Promise<void>;
  /** Its output and log files, for failure messages. */
  log(): string;
}

export interface WebServer {
  /** "nginx", "h2o", ... */
  name: string;
  /** The binary the tests need, and the Debian package that has it. */
  program: string;
  package: string;
  /**
   * For a peer that is not a Debian package: its binary, or null and why it
   * is missing (may throw in CI, as requirePeer does). Default:
   * requirePeer(program, package).
   */
  peer?(): { path: string | null; why: string };
  variants: VariantSpec[];
  /** e.g. "nginx/1.22.1" (for the report). */
  version(): string;
  /** Starts one variant in `options.dir` on a free port; resolves once it accepts connections. */
  start(variant: string, options: StartOptions): Promise<RunningServer>;
}
