// The contenders: what each one runs and how nginx reaches it. Every
// FastCGI and proxy backend listens on a Unix socket in its own directory
// under the run's temp dir.
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { start } from "./procs.mjs";
import { BENCH_NODE_MAJOR, benchNodes } from "./tools.mjs";

/** PHP-FPM's fixed pool: one worker per wrk connection (see phpConfig). */
export const PHP_CHILDREN = 32;

/**
 * @typedef {{ root: string, dir: string, buildDir: string, goBinary: string,
 *   tools: Record<string, string> }} Context
 * @typedef {{ id: string, label: string, runtime: string, kind: "fastcgi" | "proxy" | "ceiling",
 *   needs: string[], launch?: (ctx: Context, socket: string, dir: string) => any,
 *   scriptRoot?: (ctx: Context) => string }} Contender
 */

const bench = (ctx, file) => path.join(ctx.root, "scripts/bench", file);
const denoRun = (ctx, file, socket) => [
  ctx.tools.deno,
  ["run", "-A", "--no-lock", "--quiet", bench(ctx, file), socket],
];

/** `runtime cli serve app --workers 2` on `socket`. */
function serveWorkers(id, runtime, cli, app, socket, dir) {
  const args = [cli, "serve", app, "--listen", `unix:${socket}`, "--workers", "2"];
  return start(id, runtime, args, { dir });
}

// PHP-FPM keeps a worker on a connection for as long as nginx keeps it
// (fastcgi_keep_conn), so the pool needs a worker for each of nginx's
// concurrent upstream connections (at most one per wrk connection); fewer
// would leave requests waiting in the listen backlog for ever.
function phpConfig(dir, socket) {
  const root = process.getuid?.() === 0;
  return [
    "[global]",
    `pid = ${dir}/php-fpm.pid`,
    `error_log = ${dir}/php-fpm-error.log`,
    "daemonize = no",
    "[bench]",
    ...(root ? ["user = root", "group = root"] : []),
    `listen = ${socket}`,
    "listen.mode = 0600",
    "pm = static",
    `pm.max_children = ${PHP_CHILDREN}`,
    "php_admin_value[post_max_size] = 8M",
    "php_admin_flag[expose_php] = off",
    "",
  ].join("\n");
}

// Every Node contender runs on Node 24 from node_modules (tools.mjs); the
// labels carry its version, so the tables and BENCHMARKS.md say which Node
// ran. webfcgi runs once more on the machine's Node (the one that runs npm)
// when that is another version, as its own contender.
const NODES = benchNodes();
const onNode = ` on Node ${NODES.bench?.version.slice(1) ?? `${BENCH_NODE_MAJOR} (not installed)`}`;
const machineId = NODES.machine ? `webfcgi-node${NODES.machine.major}` : null;

/** The contender for webfcgi on the machine's Node, when it is not Node 24's version. */
const machineContender = NODES.machine
  ? [{
    id: machineId,
    label: `webfcgi on Node ${NODES.machine.version.slice(1)} (the machine's)`,
    // Its own runtime name: no proxy_pass pair (node:http runs on Node 24).
    runtime: `node${NODES.machine.major}`,
    kind: "fastcgi",
    needs: ["node-machine"],
    launch: (ctx, socket, dir) =>
      start(machineId, ctx.tools["node-machine"], [
        path.join(ctx.buildDir, "scripts/bench/serve_fcgi.js"),
        socket,
      ], { dir }),
  }]
  : [];

/** @type {Contender[]} */
export const CONTENDERS = [
  {
    id: "webfcgi-deno",
    label: "webfcgi on Deno",
    runtime: "deno",
    kind: "fastcgi",
    needs: ["deno"],
    launch: (ctx, socket, dir) =>
      start("webfcgi-deno", ...denoRun(ctx, "serve_fcgi.ts", socket), { dir }),
  },
  {
    id: "webfcgi-bun",
    label: "webfcgi on Bun",
    runtime: "bun",
    kind: "fastcgi",
    needs: ["bun"],
    launch: (ctx, socket, dir) =>
      start("webfcgi-bun", ctx.tools.bun, [bench(ctx, "serve_fcgi.ts"), socket], { dir }),
  },
  {
    id: "webfcgi-node",
    label: `webfcgi${onNode}`,
    runtime: "node",
    kind: "fastcgi",
    needs: ["node"],
    launch: (ctx, socket, dir) =>
      start("webfcgi-node", ctx.tools.node, [
        path.join(ctx.buildDir, "scripts/bench/serve_fcgi.js"),
        socket,
      ], { dir }),
  },
  ...machineContender,
  // Two processes on the machine's two cores, as a deployment would run
  // them (Go's net/http/fcgi uses both cores, PHP-FPM 32 processes): the
  // CLI's --workers (node:cluster, one shared socket) on Bun and Node; two
  // servers behind one nginx upstream on Deno, whose --workers is refused
  // (docs/scaling.md). Optional (--all or --only): they add a third to the
  // run's time, and on two cores shared with nginx and wrk they gain little.
  {
    id: "webfcgi-deno-x2",
    optional: true,
    label: "webfcgi on Deno, 2 processes",
    runtime: "deno",
    kind: "fastcgi",
    processes: 2,
    needs: ["deno"],
    launch: (ctx, socket, dir) => {
      const [deno, args] = denoRun(ctx, "serve_fcgi.ts", "");
      const run = args.slice(0, -1).map((a) => `'${a}'`).join(" ");
      return start("webfcgi-deno-x2", "sh", [
        "-c",
        `'${deno}' ${run} '${socket}' & '${deno}' ${run} '${socket}.2' & wait`,
      ], { dir });
    },
    extraSockets: (socket) => [`${socket}.2`],
  },
  {
    id: "webfcgi-bun-x2",
    optional: true,
    label: "webfcgi on Bun, --workers 2",
    runtime: "bun",
    kind: "fastcgi",
    processes: 2,
    needs: ["bun"],
    launch: (ctx, socket, dir) =>
      serveWorkers(
        "webfcgi-bun-x2",
        ctx.tools.bun,
        path.join(ctx.root, "cli.ts"),
        bench(ctx, "app.ts"),
        socket,
        dir,
      ),
  },
  {
    id: "webfcgi-node-x2",
    optional: true,
    label: `webfcgi${onNode}, --workers 2`,
    runtime: "node",
    kind: "fastcgi",
    processes: 2,
    needs: ["node"],
    launch: (ctx, socket, dir) =>
      serveWorkers(
        "webfcgi-node-x2",
        ctx.tools.node,
        path.join(ctx.buildDir, "cli.js"),
        path.join(ctx.buildDir, "scripts/bench/app.js"),
        socket,
        dir,
      ),
  },
  {
    id: "go-fcgi",
    label: "Go net/http/fcgi",
    runtime: "go",
    kind: "fastcgi",
    needs: ["go"],
    launch: (ctx, socket, dir) => start("go-fcgi", ctx.goBinary, [socket], { dir }),
  },
  {
    id: "php-fpm",
    label: `PHP-FPM (static, ${PHP_CHILDREN})`,
    runtime: "php",
    kind: "fastcgi",
    needs: ["php-fpm"],
    scriptRoot: (ctx) => bench(ctx, "php"),
    launch: (ctx, socket, dir) => {
      const conf = path.join(dir, "php-fpm.conf");
      fs.writeFileSync(conf, phpConfig(dir, socket));
      const root = process.getuid?.() === 0 ? ["-R"] : [];
      return start("php-fpm", ctx.tools["php-fpm"], ["-F", "-y", conf, "-p", dir, ...root], {
        dir,
      });
    },
  },
  {
    id: "node-fastcgi",
    label: `node-fastcgi 2.0.0${onNode}`,
    runtime: "node",
    kind: "fastcgi",
    needs: ["node"],
    launch: (ctx, socket, dir) =>
      start("node-fastcgi", ctx.tools.node, [bench(ctx, "node_fastcgi_app.mjs"), socket], { dir }),
  },
  {
    id: "proxy-deno",
    label: "proxy to Deno.serve",
    runtime: "deno",
    kind: "proxy",
    needs: ["deno"],
    launch: (ctx, socket, dir) =>
      start("proxy-deno", ...denoRun(ctx, "native_server.mjs", socket), { dir }),
  },
  {
    id: "proxy-bun",
    label: "proxy to Bun.serve",
    runtime: "bun",
    kind: "proxy",
    needs: ["bun"],
    launch: (ctx, socket, dir) =>
      start("proxy-bun", ctx.tools.bun, [bench(ctx, "native_server.mjs"), socket], { dir }),
  },
  {
    id: "proxy-node",
    label: `proxy to node:http${onNode}`,
    runtime: "node",
    kind: "proxy",
    needs: ["node"],
    launch: (ctx, socket, dir) =>
      start("proxy-node", ctx.tools.node, [bench(ctx, "native_server.mjs"), socket], { dir }),
  },
  {
    id: "nginx-return",
    label: "nginx alone (ceiling)",
    runtime: "nginx",
    kind: "ceiling",
    needs: [],
  },
];

/** The proxy contender of the same runtime, the "native" reference of a FastCGI contender. */
export function proxyOf(contender) {
  // One process against one: the multi-process variants have no such pair.
  if (contender.kind !== "fastcgi" || (contender.processes ?? 1) > 1) return undefined;
  return CONTENDERS.find((c) => c.kind === "proxy" && c.runtime === contender.runtime)?.id;
}

/** The reference FastCGI peer every contender is compared with. */
export const GO_ID = "go-fcgi";
