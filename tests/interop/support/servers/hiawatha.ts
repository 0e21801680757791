// Hiawatha 10.9 (built from its seed tarball by scripts/peers/build_hiawatha.sh,
// not a Debian package): a FastCGIserver record (SessionTimeout = 0) and a URL
// toolkit rule that sends every path to it, over TCP ("tcp") or a Unix
// socket ("unix"). WebDAVapp is on (else PUT, DELETE and OPTIONS are 501) and
// the limits that would stop the suite are raised (LIMITS); the rest is
// Hiawatha's default.
import * as fs from "node:fs";
import * as path from "node:path";
import { hiawathaBinary, requireHiawatha } from "../../../support/hiawatha_peer.ts";
import { freePort, ManagedProcess } from "../process.ts";
import type { SocketAddr } from "../tap.ts";
import { isRoot, versionLine, whenListening } from "./common.ts";
import type { RunningServer, StartOptions, Traits, WebServer } from "./types.ts";

// Defaults that bite: 15 connections per IP (then a 2 s ban), 64 KB per
// request with its body (PUT included), 5 s for a whole FastCGI response.
const LIMITS = {
  ConnectionsPerIP: 250,
  ConnectionsTotal: 500,
  MaxRequestSize: 102400, // KB
  TimeForCGI: 60, // s
};

const COMMON: Partial<Traits> = {
  streamsRequestBody: false,
  streams: false,
  bodylessChunked: true,
  keepConn: false,
};
const COMMON_WHY: Partial<Record<keyof Traits, string>> = {
  streamsRequestBody: "Hiawatha reads the whole request body before it contacts the app",
  streams: "Hiawatha buffers a FastCGI response unless it carries X-Accel-Buffering: no",
  bodylessChunked:
    "Hiawatha frames a 204/304 without Content-Length as chunked on a kept-alive connection and sends the 0-chunk",
  keepConn: "Hiawatha opens a FastCGI connection per request (flags 0, request id 1)",
};

function configText(dir: string, port: number, app: SocketAddr): string {
  const connectTo = "path" in app ? app.path : `${app.host ?? "127.0.0.1"}:${app.port}`;
  return `# webfcgi interop: Hiawatha in front of the interop app
PIDfile = ${dir}/hiawatha.pid
WorkDirectory = ${dir}/work
SystemLogfile = ${dir}/system.log
GarbageLogfile = ${dir}/garbage.log
ExploitLogfile = ${dir}/exploit.log
ConnectionsPerIP = ${LIMITS.ConnectionsPerIP}
ConnectionsTotal = ${LIMITS.ConnectionsTotal}

Binding {
  Port = ${port}
  Interface = 127.0.0.1
  MaxRequestSize = ${LIMITS.MaxRequestSize}
}

FastCGIserver {
  FastCGIid = webfcgi
  ConnectTo = ${connectTo}
  SessionTimeout = 0
}

UrlToolkit {
  ToolkitId = to_app
  Match .* UseFastCGI webfcgi
}

Hostname = 127.0.0.1
WebsiteRoot = ${dir}/webroot
AccessLogfile = ${dir}/access.log
ErrorLogfile = ${dir}/error.log
UseToolkit = to_app
TimeForCGI = ${LIMITS.TimeForCGI}
WebDAVapp = yes
`;
}

export const hiawatha: WebServer = {
  name: "hiawatha",
  program: "hiawatha",
  package: "(built from hiawatha-10.9.tar.gz)",
  peer: requireHiawatha,
  variants: [
    {
      name: "tcp",
      description:
        "FastCGIserver ConnectTo 127.0.0.1:PORT, SessionTimeout 0, URL toolkit Match .* UseFastCGI; " +
        "WebDAVapp yes (else PUT, DELETE, OPTIONS are 501), ConnectionsPerIP 250, MaxRequestSize 100 MB, " +
        "TimeForCGI 60, else defaults",
      app: "tcp",
      expect: { ...COMMON },
      why: { ...COMMON_WHY },
    },
    {
      name: "unix",
      description: "as tcp over a Unix socket (ConnectTo /path/app.sock)",
      app: "unix",
      expect: { ...COMMON },
      why: { ...COMMON_WHY },
    },
  ],
  version: () =>
    `${versionLine(hiawathaBinary(), ["-v"], /Hiawatha v([\d.]+)/)} (built from the seed tarball)`,
  async start(variant: string, options: StartOptions): Promise<RunningServer> {
    const { dir, appAddr } = options;
    if (appAddr === undefined) throw new Error("hiawatha needs appAddr");
    const port = await freePort();
    fs.mkdirSync(path.join(dir, "webroot"));
    // Read from the -c directory; Hiawatha refuses to start without one.
    fs.writeFileSync(path.join(dir, "mimetype.conf"), "text/plain txt\n");
    const confPath = path.join(dir, "hiawatha.conf");
    fs.writeFileSync(confPath, configText(dir, port, appAddr));
    if (isRoot()) {
      // Hiawatha refuses ServerId root and runs as 65534: it must reach the
      // webroot and logs (dir is 0700) and connect to the app's socket.
      fs.chmodSync(dir, 0o711);
      if ("path" in appAddr) fs.chmodSync(appAddr.path, 0o666);
    }
    const proc = new ManagedProcess({
      name: `hiawatha ${variant}`,
      argv: [hiawathaBinary(), "-d", "-c", dir],
      cwd: dir,
      logFiles: [confPath, path.join(dir, "system.log"), path.join(dir, "error.log")],
    });
    await whenListening(proc, { port });
    return {
      name: "hiawatha",
      variant,
      port,
      stop: () => proc.stop("SIGTERM"),
      log: () => proc.log(),
    };
  },
};
