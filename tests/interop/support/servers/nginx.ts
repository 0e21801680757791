// nginx (Debian package `nginx`): "stock" = Debian's /etc/nginx/fastcgi_params
// and nginx's defaults (a new FastCGI connection per request, buffering on);
// "tuned" = upstream keepalive + fastcgi_keep_conn on, no request or response
// buffering, and a 16k fastcgi_buffer_size for larger response headers.
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort, ManagedProcess } from "../process.ts";
import {
  debianVersion,
  isRoot,
  nginxAddr,
  programPath,
  versionLine,
  whenListening,
} from "./common.ts";
import type { RunningServer, StartOptions, WebServer } from "./types.ts";

const BUFFERED = "nginx buffers FastCGI responses by default (fastcgi_buffering on)";

export const nginx: WebServer = {
  name: "nginx",
  program: "nginx",
  package: "nginx",
  variants: [
    {
      name: "stock",
      description:
        "Debian fastcgi_params, nginx defaults: no keep-alive, request and response buffering on",
      app: "tcp",
      expect: {
        hostPort: false,
        streams: false,
        streamsRequestBody: false,
        bigHeaders: 502,
        keepConn: false,
      },
      why: {
        streamsRequestBody:
          "nginx reads the whole request body before it contacts the app (fastcgi_request_buffering on)",
        hostPort: "Debian's fastcgi_params sends HTTP_HOST=$host (no port; Debian bug #1126960)",
        streams:
          `${BUFFERED}; events arrive together at the end unless the app sends X-Accel-Buffering: no`,
        bigHeaders: "502: response headers above fastcgi_buffer_size (4k by default)",
        keepConn: "no fastcgi_keep_conn: one FastCGI connection per request (FCGI_KEEP_CONN=0)",
      },
    },
    {
      name: "tuned",
      description:
        "upstream keepalive 8 + fastcgi_keep_conn on, fastcgi_request_buffering off, fastcgi_buffering off, fastcgi_buffer_size 16k (+ fastcgi_buffers 8 16k)",
      app: "tcp",
      expect: { hostPort: false, chunkedUploadLength: false },
      why: {
        hostPort: "Debian's fastcgi_params sends HTTP_HOST=$host (no port; Debian bug #1126960)",
        chunkedUploadLength:
          'fastcgi_request_buffering off streams a chunked upload with CONTENT_LENGTH ""',
      },
    },
  ],
  version: () => debianVersion("nginx", () => versionLine("nginx", ["-v"], /nginx\/([\d.]+)/)),
  async start(variant: string, options: StartOptions): Promise<RunningServer> {
    const { dir, appAddr } = options;
    if (appAddr === undefined) throw new Error("nginx needs appAddr");
    const port = await freePort();
    const tuned = variant === "tuned";
    for (const sub of ["body", "fastcgi", "proxy", "uwsgi", "scgi"]) {
      fs.mkdirSync(path.join(dir, `tmp_${sub}`));
    }
    const upstream = nginxAddr(appAddr);
    const conf = `
${isRoot() ? "user root;" : ""}
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp_body;
  fastcgi_temp_path ${dir}/tmp_fastcgi;
  proxy_temp_path ${dir}/tmp_proxy;
  uwsgi_temp_path ${dir}/tmp_uwsgi;
  scgi_temp_path ${dir}/tmp_scgi;
  client_max_body_size 100m;
  ${tuned ? `upstream app { server ${upstream}; keepalive 8; }` : ""}
  server {
    listen 127.0.0.1:${port};
    location / {
      include /etc/nginx/fastcgi_params;
      ${
      tuned
        ? `fastcgi_pass app;
      fastcgi_keep_conn on;
      fastcgi_request_buffering off;
      fastcgi_buffering off;
      fastcgi_buffer_size 16k;
      fastcgi_buffers 8 16k;`
        : `fastcgi_pass ${upstream};`
    }
    }
  }
}
`;
    const confPath = path.join(dir, "nginx.conf");
    fs.writeFileSync(confPath, conf);
    const errorLog = path.join(dir, "error.log");
    const proc = new ManagedProcess({
      name: `nginx ${variant}`,
      argv: [programPath("nginx"), "-p", dir, "-c", confPath, "-e", errorLog],
      cwd: dir,
      logFiles: [confPath, errorLog],
    });
    await whenListening(proc, { port });
    return {
      name: "nginx",
      variant,
      port,
      stop: () => proc.stop("SIGTERM"),
      log: () => proc.log(),
    };
  },
};
