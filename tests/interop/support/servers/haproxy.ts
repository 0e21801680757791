// HAProxy 2.6 `fcgi-app` (Debian package `haproxy`): "default" = the
// fcgi-app defaults over TCP (keep-conn on, no multiplexing, no get-values);
// "mpx" = option mpxs-conns + get-values + max-reqs with `http-reuse always`,
// so concurrent requests share FastCGI connections (real multiplexing);
// "unix" = a Unix socket, `no option keep-conn`, `pass-header Authorization`.
// One HAProxy per variant, in the foreground (-db), one thread, on 127.0.0.1.
//
// HAProxy 2.6.12 findings these variants encode: with its default 16 KB
// buffers (tune.bufsize) it answers 400 to 28 KB of request headers, and,
// when multiplexing, it aborts streams (BEGIN_REQUEST then ABORT_REQUEST, no
// PARAMS; the client gets 500, log flags "IH") whose params do not fit the
// connection's output buffer; so "mpx" runs with tune.bufsize 65536. The
// app's FCGI_MAX_REQS answer replaces `option max-reqs` (manual 10.1.1).
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort, ManagedProcess } from "../process.ts";
import type { SocketAddr } from "../tap.ts";
import { debianVersion, programPath, versionLine, whenListening } from "./common.ts";
import type { RunningServer, StartOptions, Traits, WebServer } from "./types.ts";

/** `option max-reqs` of "mpx"; the app's FCGI_MAX_REQS answer (get-values) overrides it. */
export const MAX_REQS = 16;

const COMMON: Partial<Traits> = {
  rawUtf8Target: 400,
  bigRequestHeaders: 400,
  chunkedUpload: 400,
  redirectStatus: 302,
  authorization: false,
};
const COMMON_WHY: Partial<Record<keyof Traits, string>> = {
  rawUtf8Target: "HAProxy answers 400 to raw non-ASCII bytes in the request line",
  bigRequestHeaders:
    "the whole request head must fit HAProxy's buffer (tune.bufsize, 16384 by default): 28 KB of headers get 400",
  chunkedUpload:
    "HAProxy 2.6 fcgi-app sends only requests of known length (manual 10.2 CONTENT_LENGTH): a chunked upload gets 400",
  redirectStatus:
    "HAProxy 2.6 turns a Status 301/307 with a Location into 302 (haproxy/haproxy#2865)",
  authorization:
    "fcgi-app omits the Authorization header unless `pass-header Authorization` (manual 10.1.1)",
};

/** Global lines of `variant` beyond the defaults. */
export function globalTuning(variant: string): string[] {
  return variant === "mpx" ? ["tune.bufsize 65536"] : [];
}

/** The fcgi-app and backend lines of `variant`, as a user would write them. */
export function fcgiSections(variant: string, dir: string, app: SocketAddr): string {
  const server = "path" in app ? `unix@${app.path}` : `${app.host ?? "127.0.0.1"}:${app.port}`;
  const options = {
    default: [],
    mpx: [
      "option keep-conn",
      "option mpxs-conns",
      "option get-values",
      `option max-reqs ${MAX_REQS}`,
    ],
    unix: ["no option keep-conn", "pass-header Authorization"],
  }[variant];
  if (options === undefined) throw new Error(`haproxy: no variant ${variant}`);
  return `fcgi-app webfcgi
    docroot ${dir}
    path-info ^(/app/[^/]*)(/.*)?$
    log-stderr global
${options.map((line) => `    ${line}\n`).join("")}
backend app
    use-fcgi-app webfcgi
${variant === "mpx" ? "    http-reuse always\n" : ""}    server s1 ${server} proto fcgi
`;
}

export const haproxy: WebServer = {
  name: "haproxy",
  program: "haproxy",
  package: "haproxy",
  variants: [
    {
      name: "default",
      description:
        "fcgi-app defaults over TCP (option keep-conn on, no mpxs-conns, no get-values), path-info regex",
      app: "tcp",
      expect: { ...COMMON, stickyConn: false },
      why: {
        ...COMMON_WHY,
        stickyConn:
          "http-reuse safe (the default): after its first request, a client's requests go to any idle pooled FastCGI connection",
      },
    },
    {
      name: "mpx",
      description:
        `option mpxs-conns, option get-values, option max-reqs ${MAX_REQS}, http-reuse always, tune.bufsize 65536: concurrent requests multiplexed on shared FastCGI connections`,
      app: "tcp",
      expect: {
        ...COMMON,
        bigRequestHeaders: true,
        streamsRequestBody: false,
        disconnectAbortsShared: false,
        multiplexes: true,
      },
      why: {
        ...COMMON_WHY,
        disconnectAbortsShared:
          "HAProxy 2.6 sends no FCGI_ABORT_REQUEST for a client that left a multiplexed connection: the handler runs on until the connection's other requests end and HAProxy closes it",
        streamsRequestBody:
          "HAProxy passes a request body on only once its buffer is full or the body complete: with tune.bufsize 65536 the 32 KB slow upload arrives at once (with 16 KB buffers it arrives in 16 KB steps)",
        multiplexes:
          "HAProxy multiplexes: it asks FCGI_GET_VALUES, the app answers FCGI_MPXS_CONNS=1, and concurrent requests share a connection with odd request ids",
      },
    },
    {
      name: "unix",
      description: "Unix socket, no option keep-conn, pass-header Authorization",
      app: "unix",
      expect: { ...COMMON, authorization: true, keepConn: false },
      why: {
        ...COMMON_WHY,
        keepConn: "no option keep-conn: one FastCGI connection per request (FCGI_KEEP_CONN=0)",
      },
    },
  ],
  version: () =>
    debianVersion("haproxy", () => versionLine("haproxy", ["-v"], /HAProxy version ([\d.]+)/)),
  async start(variant: string, options: StartOptions): Promise<RunningServer> {
    const { dir, appAddr } = options;
    if (appAddr === undefined) throw new Error("haproxy needs appAddr");
    const port = await freePort();
    // No user/group lines: HAProxy keeps the uid it starts with (root in CI).
    // With -db it writes no pidfile; it is stopped by the pid it was spawned with.
    const conf = `global
    nbthread 1
${globalTuning(variant).map((line) => `    ${line}\n`).join("")}    pidfile ${dir}/haproxy.pid
    stats socket ${dir}/stats.sock mode 600 level admin
    log stderr format short local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout client 60s
    timeout server 60s

frontend web
    bind 127.0.0.1:${port}
    default_backend app

${fcgiSections(variant, dir, appAddr)}`;
    const confPath = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(confPath, conf);
    const proc = new ManagedProcess({
      name: `haproxy ${variant}`,
      argv: [programPath("haproxy"), "-db", "-f", confPath],
      cwd: dir,
      logFiles: [confPath],
    });
    await whenListening(proc, { port });
    return {
      name: "haproxy",
      variant,
      port,
      stop: () => proc.stop("SIGTERM"),
      log: () => proc.log(),
    };
  },
};
