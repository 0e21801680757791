// h2o 2.2 (Debian package `h2o`): "tcp" = fastcgi.connect over TCP (defaults:
// a FastCGI connection per request), "unix" = fastcgi.connect over a Unix
// socket with fastcgi.timeout.keepalive (connections reused), "spawn" =
// fastcgi.spawn (h2o starts the app with the listening socket on fd 0).
import * as fs from "node:fs";
import * as path from "node:path";
import { shellQuote } from "../runtime.ts";
import { freePort, ManagedProcess } from "../process.ts";
import { debianVersion, isRoot, programPath, versionLine, whenListening } from "./common.ts";
import type { RunningServer, StartOptions, Traits, WebServer } from "./types.ts";

const COMMON: Partial<Traits> = {
  cookie: "k1=v1;k2=v2",
  streamsRequestBody: false,
  hostWithoutHeader: "default",
};
const COMMON_WHY = {
  hostWithoutHeader: "without a Host header h2o sends HTTP_HOST=default (its hosts: key)",
  cookie: 'h2o joins two Cookie headers with ";" (no space)',
  streamsRequestBody: "h2o 2.2 reads the whole request body before it contacts the app",
};

export const h2o: WebServer = {
  name: "h2o",
  program: "h2o",
  package: "h2o",
  variants: [
    {
      name: "tcp",
      description: "fastcgi.connect over TCP, defaults (a FastCGI connection per request)",
      app: "tcp",
      expect: { ...COMMON, keepConn: false },
      why: {
        ...COMMON_WHY,
        keepConn: "no fastcgi.timeout.keepalive: one FastCGI connection per request",
      },
    },
    {
      name: "unix",
      description: "fastcgi.connect over a Unix socket, fastcgi.timeout.keepalive 10000",
      app: "unix",
      expect: { ...COMMON },
      why: { ...COMMON_WHY },
    },
    {
      name: "spawn",
      description: "fastcgi.spawn: h2o starts the app, listening socket on fd 0",
      app: "spawn",
      expect: { ...COMMON, keepConn: false },
      why: {
        ...COMMON_WHY,
        keepConn: "no fastcgi.timeout.keepalive: one FastCGI connection per request",
      },
    },
  ],
  version: () =>
    debianVersion("h2o", () => versionLine("h2o", ["--version"], /h2o version ([\d.]+)/)),
  async start(variant: string, options: StartOptions): Promise<RunningServer> {
    const { dir, appAddr, spawnCommand } = options;
    const port = await freePort();
    let handler: string;
    if (variant === "spawn") {
      if (spawnCommand === undefined) throw new Error("h2o spawn needs spawnCommand");
      handler = `fastcgi.spawn: ${JSON.stringify(`exec ${shellQuote(spawnCommand)}`)}`;
    } else {
      if (appAddr === undefined) throw new Error("h2o needs appAddr");
      handler = "path" in appAddr
        ? `fastcgi.connect: {port: ${JSON.stringify(appAddr.path)}, type: unix}
        fastcgi.timeout.keepalive: 10000`
        : `fastcgi.connect: {host: ${
          appAddr.host ?? "127.0.0.1"
        }, port: ${appAddr.port}, type: tcp}`;
    }
    const conf = `${isRoot() ? "user: root\n" : ""}listen:
  host: 127.0.0.1
  port: ${port}
pid-file: ${dir}/h2o.pid
error-log: ${dir}/error.log
access-log: ${dir}/access.log
limit-request-body: 104857600
hosts:
  default:
    paths:
      "/":
        ${handler}
`;
    const confPath = path.join(dir, "h2o.conf");
    fs.writeFileSync(confPath, conf);
    const errorLog = path.join(dir, "error.log");
    const proc = new ManagedProcess({
      name: `h2o ${variant}`,
      argv: [programPath("h2o"), "-c", confPath],
      cwd: dir,
      logFiles: [confPath, errorLog],
    });
    await whenListening(proc, { port });
    return {
      name: "h2o",
      variant,
      port,
      stop: () => proc.stop("SIGTERM"),
      log: () => proc.log(),
    };
  },
};
