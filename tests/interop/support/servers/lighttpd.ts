// lighttpd 1.4 mod_fastcgi (Debian package `lighttpd`): "host" = fastcgi.server
// with host/port and lighttpd's defaults (request and response buffered, a
// FastCGI connection per request); "stream" = the same with
// server.stream-request-body/stream-response-body = 2 and a 64 KB header
// limit; "spawn" = bin-path (lighttpd starts the app with a Unix listening
// socket on fd 0, so it also covers lighttpd over AF_UNIX; a separate
// "socket" variant cost ~8 s per run and showed nothing new).
// lighttpdBaseConfig/runLighttpd are shared with the authorizer module.
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { shellQuote } from "../runtime.ts";
import { freePort, ManagedProcess } from "../process.ts";
import { debianVersion, programPath, versionLine, whenListening } from "./common.ts";
import type { RunningServer, StartOptions, Traits, VariantSpec, WebServer } from "./types.ts";

/**
 * The server part of a lighttpd.conf that keeps everything in `dir`:
 * document root, pid, error log and upload (temp) dirs, bound to 127.0.0.1:`port`.
 * Creates `dir/htdocs` and `dir/uploads`. As root lighttpd keeps running as
 * root when server.username is not set, which the 0700 temp dir needs.
 */
export function lighttpdBaseConfig(dir: string, port: number): string {
  for (const sub of ["htdocs", "uploads"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  return `server.document-root = "${dir}/htdocs"
server.bind = "127.0.0.1"
server.port = ${port}
server.pid-file = "${dir}/lighttpd.pid"
server.errorlog = "${dir}/error.log"
server.upload-dirs = ( "${dir}/uploads" )
server.max-request-size = 102400
server.modules += ( "mod_fastcgi" )
`;
}

/**
 * Writes `config` to dir/lighttpd.conf, starts `lighttpd -D` and resolves
 * once it accepts connections on `port`.
 */
export async function runLighttpd(
  name: string,
  variant: string,
  dir: string,
  port: number,
  config: string,
): Promise<RunningServer> {
  const confPath = path.join(dir, "lighttpd.conf");
  fs.writeFileSync(confPath, config);
  const errorLog = path.join(dir, "error.log");
  const proc = new ManagedProcess({
    name: `${name} ${variant}`,
    argv: [programPath("lighttpd"), "-D", "-f", confPath],
    cwd: dir,
    logFiles: [confPath, errorLog],
  });
  await whenListening(proc, { port });
  return { name, variant, port, stop: () => proc.stop("SIGTERM"), log: () => proc.log() };
}

// lighttpd answers 400 to a request target with a 0xFF byte ("invalid
// character in URI"; other non-UTF-8 bytes such as 0xE9 pass) and 431 to
// more than server.max-request-field-size (8 KB by default) of headers.
const COMMON: Partial<Traits> = { rawNonUtf8Target: 400, keepConn: false };
const COMMON_WHY: Partial<Record<keyof Traits, string>> = {
  rawNonUtf8Target:
    'lighttpd answers 400 to a 0xFF byte in the request target ("invalid character in URI")',
  keepConn: "lighttpd never sets FCGI_KEEP_CONN: one FastCGI connection per request",
};
const DEFAULTS: Partial<Traits> = {
  ...COMMON,
  bigRequestHeaders: 431,
  streamsRequestBody: false,
  streams: false,
  streamsWithAccelNo: false,
  disconnectAborts: false,
};
const DEFAULTS_WHY: Partial<Record<keyof Traits, string>> = {
  ...COMMON_WHY,
  bigRequestHeaders: "431: server.max-request-field-size is 8 KB by default",
  streamsRequestBody: "lighttpd reads the whole request body before it contacts the app",
  streams: "lighttpd buffers the whole response by default (server.stream-response-body = 0)",
  streamsWithAccelNo:
    "X-Accel-Buffering: no changes nothing: lighttpd buffers the whole response by default",
  disconnectAborts:
    "lighttpd buffers the response and keeps the FastCGI connection after the client left (an endless response saw no abort within 8 s)",
};
const BUFFERED_SKIP = {
  "disconnect-abort":
    "lighttpd buffers the whole response: the endless response never reaches the client, so it cannot hang up mid-response (disconnect-download covers the abort)",
  "disconnect-abort-shared":
    "lighttpd buffers the whole response: the endless response never reaches the client, so it cannot hang up mid-response (and lighttpd never multiplexes)",
};

const VARIANTS: VariantSpec[] = [
  {
    name: "host",
    description:
      'fastcgi.server "/app" => host + port, "check-local" => "disable", lighttpd defaults (buffered both ways)',
    app: "tcp",
    expect: { ...DEFAULTS },
    why: { ...DEFAULTS_WHY },
    skip: BUFFERED_SKIP,
  },
  {
    name: "stream",
    description:
      "as host + server.stream-request-body = 2, server.stream-response-body = 2, server.max-request-field-size = 65535",
    app: "tcp",
    expect: { ...COMMON, chunkedUpload: 411 },
    why: {
      ...COMMON_WHY,
      chunkedUpload:
        "411: with server.stream-request-body = 2, a chunked upload still arriving when lighttpd contacts the app gets 411 (FastCGI needs CONTENT_LENGTH; a chunked body already complete passes)",
    },
  },
  {
    name: "spawn",
    description:
      'fastcgi.server "/app" => "bin-path" (lighttpd starts the app, socket on fd 0), "max-procs" => 1, defaults',
    app: "spawn",
    expect: { ...DEFAULTS },
    why: { ...DEFAULTS_WHY },
    skip: BUFFERED_SKIP,
  },
];

/** Environment variables a spawned app may need (lighttpd gives it a clean environment). */
const COPY_ENV = ["PATH", "HOME", "TMPDIR", "DENO_DIR", "BUN_INSTALL", "XDG_CACHE_HOME"];

function backend(variant: string, dir: string, options: StartOptions): string {
  if (variant === "spawn") {
    if (options.spawnCommand === undefined) throw new Error("lighttpd spawn needs spawnCommand");
    // lighttpd execs bin-path itself (no shell): a wrapper keeps argv quoting exact.
    const wrapper = path.join(dir, "app.sh");
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${shellQuote(options.spawnCommand)}\n`, {
      mode: 0o755,
    });
    const copy = COPY_ENV.filter((name) => process.env[name] !== undefined);
    return `"bin-path" => "${wrapper}", "socket" => "${dir}/spawn.sock", "max-procs" => 1,
      "bin-copy-environment" => ( ${copy.map((name) => `"${name}"`).join(", ")} ),`;
  }
  const addr = options.appAddr;
  if (addr === undefined) throw new Error("lighttpd needs appAddr");
  return "path" in addr
    ? `"socket" => "${addr.path}",`
    : `"host" => "${addr.host ?? "127.0.0.1"}", "port" => ${addr.port},`;
}

export const lighttpd: WebServer = {
  name: "lighttpd",
  program: "lighttpd",
  package: "lighttpd",
  variants: VARIANTS,
  version: () =>
    debianVersion(
      "lighttpd",
      () => versionLine("lighttpd", ["-v"], /lighttpd\/([\d.]+)/),
    ),
  async start(variant: string, options: StartOptions): Promise<RunningServer> {
    const { dir } = options;
    const port = await freePort();
    const streaming = variant === "stream"
      ? `server.stream-request-body = 2
server.stream-response-body = 2
server.max-request-field-size = 65535
`
      : "";
    const config = `${lighttpdBaseConfig(dir, port)}${streaming}fastcgi.server = (
  "/app" => ((
    ${backend(variant, dir, options)}
    "check-local" => "disable"
  ))
)
`;
    return await runLighttpd("lighttpd", variant, dir, port, config);
  },
};
