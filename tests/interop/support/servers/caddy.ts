// Caddy 2 (Debian package `caddy`), admin API off, no automatic HTTPS, data
// and config dirs in the temp dir: "tcp" = reverse_proxy with
// `transport fastcgi` over TCP; "php" = the php_fastcgi directive (a
// front controller: every path is rewritten to /index.php, which must exist
// under `root`; REQUEST_URI keeps the client's target); "unix" =
// reverse_proxy over a Unix socket with flush_interval -1.
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { freePort, ManagedProcess } from "../process.ts";
import { debianVersion, programPath, versionLine, whenListening } from "./common.ts";
import type { RunningServer, StartOptions, Traits, WebServer } from "./types.ts";

const COMMON: Partial<Traits> = {
  cookie: "k1=v1, k2=v2",
  hostWithoutHeader: "localhost",
  chunkedUploadLength: false,
  streamsRequestBody: false,
  keepConn: false,
};
const COMMON_WHY: Partial<Record<keyof Traits, string>> = {
  cookie: 'Caddy joins two Cookie headers with ", " (HTTP/1.1)',
  hostWithoutHeader:
    'without a Host header Caddy sends HTTP_HOST "", SERVER_NAME "", SERVER_PORT 80 and no SERVER_ADDR: the library falls back to "localhost"',
  streamsRequestBody:
    "Caddy 2.6.2 writes STDIN through a 64 KB buffer: this 32 KB slow upload reaches the app only once it is complete",
  chunkedUploadLength:
    "Caddy 2.6.2 streams a chunked upload with CONTENT_LENGTH -1 (caddyserver/caddy#5236)",
  keepConn: "Caddy's FastCGI transport never sets FCGI_KEEP_CONN: one connection per request",
};

/** The Caddyfile for `variant`, listening on 127.0.0.1:`port`. */
export function caddyfile(variant: string, dir: string, port: number, upstream: string): string {
  let handler: string;
  if (variant === "php") {
    handler = `root * ${dir}/htdocs
	php_fastcgi ${upstream}`;
  } else {
    handler = `reverse_proxy ${upstream} {
		${variant === "unix" ? "flush_interval -1\n\t\t" : ""}transport fastcgi
	}`;
  }
  return `{
	admin off
	auto_https off
}
http://:${port} {
	bind 127.0.0.1
	${handler}
}
`;
}

export const caddy: WebServer = {
  name: "caddy",
  program: "caddy",
  package: "caddy",
  variants: [
    {
      name: "tcp",
      description: "reverse_proxy 127.0.0.1:PORT { transport fastcgi }, defaults",
      app: "tcp",
      expect: { ...COMMON },
      why: { ...COMMON_WHY },
    },
    {
      name: "php",
      description:
        "root * DIR/htdocs (an empty index.php) + php_fastcgi 127.0.0.1:PORT: every path rewritten to /index.php",
      app: "tcp",
      expect: { ...COMMON },
      why: { ...COMMON_WHY },
    },
    {
      name: "unix",
      description:
        "reverse_proxy unix/DIR/app.sock { flush_interval -1; transport fastcgi } (Unix socket)",
      app: "unix",
      expect: { ...COMMON },
      why: { ...COMMON_WHY },
    },
  ],
  version: () =>
    debianVersion("caddy", () => versionLine("caddy", ["version"], /v?(\d+\.\d+\.\d+)/)),
  async start(variant: string, options: StartOptions): Promise<RunningServer> {
    const { dir, appAddr } = options;
    if (appAddr === undefined) throw new Error("caddy needs appAddr");
    const port = await freePort();
    fs.mkdirSync(path.join(dir, "htdocs"));
    // php_fastcgi only proxies paths that end in .php: the index file must exist.
    fs.writeFileSync(path.join(dir, "htdocs", "index.php"), "");
    const upstream = "path" in appAddr
      ? `unix/${appAddr.path}`
      : `${appAddr.host ?? "127.0.0.1"}:${appAddr.port}`;
    const confPath = path.join(dir, "Caddyfile");
    fs.writeFileSync(confPath, caddyfile(variant, dir, port, upstream));
    const proc = new ManagedProcess({
      name: `caddy ${variant}`,
      argv: [
        programPath("caddy"),
        "run",
        "--config",
        confPath,
        "--adapter",
        "caddyfile",
        "--pidfile",
        path.join(dir, "caddy.pid"),
      ],
      cwd: dir,
      // Caddy keeps its storage (certificates, autosave.json) under these.
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        XDG_DATA_HOME: dir,
        XDG_CONFIG_HOME: dir,
      },
      logFiles: [confPath],
    });
    await whenListening(proc, { port });
    return {
      name: "caddy",
      variant,
      port,
      stop: () => proc.stop("SIGTERM"),
      log: () => proc.log(),
    };
  },
};
