// `npm run soak:idle`: 10,000 concurrent idle keep-conn FastCGI connections
// per runtime. Each connection sends one complete GET, reads the answer and
// stays open; the app's RSS is measured before and after (both after a full
// GC), every connection is asked a second time after the idle period, and
// all are closed. Memory per connection = (RSS after - RSS before) / count.
//
//   node scripts/soak/idle.mjs [--connections 10000] [--runtimes deno,bun,node]
//     [--idle-seconds 10] [--out docs/idle] [--no-build]
//
// The clients are this process (one fd each, under `ulimit -n`); the app
// gets maxConnections above the count (its default is 1000).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { FcgiConn } from "./fcgi.mjs";
import {
  buildForNode,
  fdCount,
  formatFiles,
  machineLoad,
  root,
  rssKb,
  RUNTIMES,
  runtimeVersion,
  startApp,
} from "./runtimes.mjs";

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const count = Number(option("connections", "10000"));
const runtimes = option("runtimes", RUNTIMES.join(",")).split(",");
const idleSeconds = Number(option("idle-seconds", "10"));
const full = count >= 10000;
const outPrefix = option(
  "out",
  full ? path.join(root, "docs", "idle") : path.join(os.tmpdir(), `webfcgi-idle-${process.pid}`),
);
/** Connections opened or asked at once. */
const WAVE = 250;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const running = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    await Promise.all([...running].map((p) => p.stop()));
    process.exit(130);
  });
}

/** A full GC in the app over a fresh connection, then its RSS once things settle. */
async function gcThenRss(socketPath, pid) {
  const conn = await FcgiConn.connect(socketPath);
  const reply = await conn.get("/__gc", 30000);
  conn.close();
  await sleep(1000);
  return { rssKb: rssKb(pid), heapUsedKb: Math.round(JSON.parse(reply.body).heapUsed / 1024) };
}

/** Runs `task(i)` for i in [0, n) at most WAVE at a time; resolves with the failures. */
async function inWaves(n, task) {
  const failures = [];
  for (let start = 0; start < n; start += WAVE) {
    const wave = [];
    for (let i = start; i < Math.min(n, start + WAVE); i++) {
      wave.push(task(i).catch((error) => failures.push(`${i}: ${error.message}`)));
    }
    await Promise.all(wave);
  }
  return failures;
}

async function idleRun(runtime) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `webfcgi-idle-${runtime}-`));
  const socketPath = path.join(dir, "app.sock");
  const app = await startApp(runtime, socketPath, ["--max-connections", String(count + 100)]);
  running.add(app);
  const conns = new Array(count).fill(null);
  const result = { runtime, connections: count, loadBefore: machineLoad() };
  try {
    // Warm-up, so that JIT code and pools exist before the baseline.
    await inWaves(20, async (i) => {
      const conn = await FcgiConn.connect(socketPath);
      for (let k = 0; k < 10; k++) await conn.get(`/warm/${i}/${k}`);
      conn.close();
    });
    await sleep(500);
    const before = await gcThenRss(socketPath, app.pid);
    result.fdsBefore = fdCount(app.pid);

    const opened = Date.now();
    const openFailures = await inWaves(count, async (i) => {
      const conn = await FcgiConn.connect(socketPath);
      conns[i] = conn;
      const reply = await conn.get(`/idle/${i}`);
      if (reply.status !== 200 || reply.body !== `hello /idle/${i}\n`) {
        throw new Error(`got ${reply.status} ${JSON.stringify(reply.body.slice(0, 80))}`);
      }
    });
    result.openSeconds = (Date.now() - opened) / 1000;
    result.openFailures = openFailures.length;
    result.fdsOpen = fdCount(app.pid);
    await sleep(2000);
    result.rssOpenNoGcKb = rssKb(app.pid);
    const after = await gcThenRss(socketPath, app.pid);
    result.rssBeforeKb = before.rssKb;
    result.rssAfterKb = after.rssKb;
    result.heapBeforeKb = before.heapUsedKb;
    result.heapAfterKb = after.heapUsedKb;
    result.kbPerConnection = (after.rssKb - before.rssKb) / count;
    result.heapKbPerConnection = (after.heapUsedKb - before.heapUsedKb) / count;

    // Idle, then a second request on every connection.
    await sleep(Math.max(0, idleSeconds * 1000 - 3000));
    result.closedWhileIdle = conns.filter((c) => c === null || c.closed).length;
    const againFailures = await inWaves(count, async (i) => {
      const conn = conns[i];
      if (conn === null) throw new Error("never opened");
      const reply = await conn.get(`/idle/${i}?again`);
      if (reply.status !== 200 || reply.body !== `hello /idle/${i}?again\n`) {
        throw new Error(`got ${reply.status}`);
      }
    });
    result.servedAgain = count - againFailures.length;
    result.failureSamples = [...openFailures, ...againFailures].slice(0, 5);

    for (const conn of conns) conn?.close();
    const closing = Date.now();
    while (Date.now() - closing < 20000 && (fdCount(app.pid) ?? 0) > result.fdsBefore + 10) {
      await sleep(100);
    }
    result.fdsAfterClose = fdCount(app.pid);
    const closed = await gcThenRss(socketPath, app.pid);
    result.rssAfterCloseKb = closed.rssKb;
    result.heapAfterCloseKb = closed.heapUsedKb;
    result.alive = app.alive();
    result.loadAfter = machineLoad();
    result.ok = result.openFailures === 0 && result.closedWhileIdle === 0 &&
      result.servedAgain === count && result.alive;
    return result;
  } finally {
    for (const conn of conns) conn?.close();
    await app.stop();
    running.delete(app);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const HEAD = [
  "runtime",
  "connections",
  "opened in s",
  "RSS before MB",
  "RSS with all open MB",
  "KB per connection",
  "JS heap KB per connection",
  "app fds open",
  "served again",
  "RSS after close MB",
  "JS heap before / open / after close MB",
  "verdict",
];
const mb = (kb) => (kb / 1024).toFixed(1);

function row(r) {
  return [
    r.runtime,
    String(r.connections),
    r.openSeconds.toFixed(1),
    mb(r.rssBeforeKb),
    mb(r.rssAfterKb),
    r.kbPerConnection.toFixed(2),
    r.heapKbPerConnection.toFixed(2),
    String(r.fdsOpen),
    String(r.servedAgain),
    mb(r.rssAfterCloseKb),
    `${mb(r.heapBeforeKb)} / ${mb(r.heapAfterKb)} / ${mb(r.heapAfterCloseKb)}`,
    r.ok ? "ok" : "FAIL",
  ];
}

function table(results) {
  return [HEAD, HEAD.map(() => "---"), ...results.map(row)]
    .map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

if (runtimes.includes("node") && !process.argv.includes("--no-build")) buildForNode();
const versions = Object.fromEntries(runtimes.map((r) => [r, runtimeVersion(r)]));
console.log(
  `webfcgi idle: ${count} keep-conn connections per runtime (${
    runtimes.join("/")
  }), idle ${idleSeconds} s, load ${machineLoad()}`,
);
const results = [];
for (const runtime of runtimes) {
  console.log(`  ${runtime} ...`);
  const r = await idleRun(runtime);
  results.push(r);
  console.log(`  ${table([r]).split("\n").at(-1)}`);
  for (const failure of r.failureSamples) console.log(`    e.g. ${failure}`);
}
const report = { date: new Date().toISOString(), idleSeconds, versions, results };
fs.mkdirSync(path.dirname(outPrefix), { recursive: true });
fs.writeFileSync(`${outPrefix}.json`, JSON.stringify(report, null, 1) + "\n");
fs.writeFileSync(
  `${outPrefix}.md`,
  `# Idle connections

Generated by \`npm run soak:idle\` (scripts/soak/idle.mjs) on ${report.date}.

${count} concurrent keep-conn FastCGI connections on a Unix socket, each after one complete GET,
held idle for ${idleSeconds} s, then asked again; RSS (/proc/<pid>/status VmRSS) after a full GC
before opening them and with all of them open ("KB per connection" is the difference over the
count). RSS after close stays near its high-water mark (the runtimes keep freed pages); the JS heap
after close shows the connections' objects are collected. Runtimes: ${
    Object.entries(versions).map(([r, v]) => `${r} ${v}`).join(", ")
  }.

${table(results)}
`,
);
formatFiles([`${outPrefix}.json`, `${outPrefix}.md`]);
console.log("");
console.log(table(results));
console.log(`\nwrote ${outPrefix}.json and ${outPrefix}.md`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
