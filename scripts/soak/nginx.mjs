// Debian's nginx under a temporary prefix, one worker, no access log, in
// front of the app's Unix socket. Two modes:
//   keep:   upstream keepalive + fastcgi_keep_conn on (connections reused)
//   nokeep: nginx's default, a new FastCGI connection per request
// A Unix socket, not loopback TCP: a million short FastCGI connections over
// TCP would leave a million TIME_WAIT entries and measure the kernel's port
// reuse rather than the app.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { stopChild } from "./runtimes.mjs";

export const NGINX = "/usr/sbin/nginx";
export const MODES = ["keep", "nokeep"];

/** A free loopback port (bound and released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function config(dir, port, socketPath, mode, upstreamKeepalive) {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const keep = mode === "keep";
  return `${root ? "user root;" : ""}
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path ${dir}/tmp_body;
  fastcgi_temp_path ${dir}/tmp_fastcgi;
  proxy_temp_path ${dir}/tmp_proxy;
  uwsgi_temp_path ${dir}/tmp_uwsgi;
  scgi_temp_path ${dir}/tmp_scgi;
  ${keep ? `upstream app { server unix:${socketPath}; keepalive ${upstreamKeepalive}; }` : ""}
  server {
    listen 127.0.0.1:${port};
    location / {
      include /etc/nginx/fastcgi_params;
      ${
    keep ? "fastcgi_pass app;\n      fastcgi_keep_conn on;" : `fastcgi_pass unix:${socketPath};`
  }
    }
  }
}
`;
}

/**
 * Starts nginx for `mode` and resolves once it answers TCP connects on its
 * port (bounded: 10 s). Returns { port, errorLog, stop() }.
 */
export async function startNginx(dir, socketPath, mode, upstreamKeepalive) {
  for (const sub of ["body", "fastcgi", "proxy", "uwsgi", "scgi"]) {
    fs.mkdirSync(path.join(dir, `tmp_${sub}`), { recursive: true });
  }
  const port = await freePort();
  const confPath = path.join(dir, "nginx.conf");
  const errorLog = path.join(dir, "error.log");
  fs.writeFileSync(confPath, config(dir, port, socketPath, mode, upstreamKeepalive));
  const child = spawn(NGINX, ["-p", dir, "-c", confPath, "-e", errorLog], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const deadline = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    if (await connects(port)) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`nginx did not listen on ${port}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, errorLog, stop: () => stopChild(child) };
}

function connects(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** nginx error.log lines at [error] or worse (upstream failures, 502s). */
export function nginxErrors(errorLog) {
  let text = "";
  try {
    text = fs.readFileSync(errorLog, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter((line) => /\[(error|crit|alert|emerg)\]/.test(line));
}
