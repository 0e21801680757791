// nginx config writer: one nginx (1 worker, access log off) with one server
// block per contender on its own 127.0.0.1 port, all under the run's temp
// prefix. FastCGI contenders get an upstream with keepalive and
// fastcgi_keep_conn on; proxy contenders HTTP/1.1 keepalive; the ceiling
// answers from nginx itself.
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { WRK_CONNECTIONS } from "./wrk.mjs";

/** Idle upstream connections nginx keeps per contender: one per wrk connection. */
export const UPSTREAM_KEEPALIVE = WRK_CONNECTIONS;

function fastcgiServer(contender) {
  return `
  upstream c_${contender.id} {
    ${(contender.sockets ?? [contender.socket]).map((s) => `server unix:${s};`).join(" ")}
    keepalive ${UPSTREAM_KEEPALIVE};
  }
  server {
    listen 127.0.0.1:${contender.port};
    location / {
      include /etc/nginx/fastcgi_params;
      ${
    contender.scriptRoot ? `fastcgi_param SCRIPT_FILENAME ${contender.scriptRoot}$uri.php;` : ""
  }
      fastcgi_pass c_${contender.id};
      fastcgi_keep_conn on;
    }
  }`;
}

function proxyServer(contender) {
  return `
  upstream c_${contender.id} { server unix:${contender.socket}; keepalive ${UPSTREAM_KEEPALIVE}; }
  server {
    listen 127.0.0.1:${contender.port};
    location / {
      proxy_pass http://c_${contender.id};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }`;
}

function ceilingServer(contender, dir) {
  return `
  server {
    listen 127.0.0.1:${contender.port};
    location = /hello { return 200 "Hello, World!"; }
    location = /1m { alias ${dir}/static/1m.bin; }
    location = /1m-static { alias ${dir}/static/1m.bin; }
    location = /stream16k { alias ${dir}/static/16k.bin; }
    location = /upload { return 200 "1048576"; }
  }`;
}

/** Writes `dir/nginx.conf` for `contenders` (each with id, kind, port, socket). */
export function writeNginxConfig(dir, contenders) {
  for (const sub of ["body", "fastcgi", "proxy", "uwsgi", "scgi"]) {
    fs.mkdirSync(path.join(dir, `tmp_${sub}`), { recursive: true });
  }
  fs.mkdirSync(path.join(dir, "static"), { recursive: true });
  fs.writeFileSync(path.join(dir, "static/1m.bin"), Buffer.alloc(1 << 20, 0x78));
  fs.writeFileSync(path.join(dir, "static/16k.bin"), Buffer.alloc(16384, 0x79));
  const servers = contenders.map((c) =>
    c.kind === "fastcgi"
      ? fastcgiServer(c)
      : c.kind === "proxy"
      ? proxyServer(c)
      : ceilingServer(c, dir)
  );
  const conf = `
${process.getuid?.() === 0 ? "user root;" : ""}
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  sendfile on;
  client_body_temp_path ${dir}/tmp_body;
  fastcgi_temp_path ${dir}/tmp_fastcgi;
  proxy_temp_path ${dir}/tmp_proxy;
  uwsgi_temp_path ${dir}/tmp_uwsgi;
  scgi_temp_path ${dir}/tmp_scgi;
  # Bodies and responses stay in memory: no temp-file I/O in any measurement.
  client_max_body_size 8m;
  client_body_buffer_size 2m;
  fastcgi_buffer_size 16k;
  fastcgi_buffers 64 16k;
  fastcgi_max_temp_file_size 0;
  proxy_buffer_size 16k;
  proxy_buffers 64 16k;
  proxy_max_temp_file_size 0;
${servers.join("\n")}
}
`;
  const file = path.join(dir, "nginx.conf");
  fs.writeFileSync(file, conf);
  return file;
}

/** nginx's command line for a config written by writeNginxConfig. */
export function nginxArgs(dir, confFile) {
  return ["-p", dir, "-c", confFile, "-e", path.join(dir, "nginx-error.log")];
}
