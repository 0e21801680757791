// `npm run limits`: what each limit costs in memory, on Deno, Bun and Node.
//
//   node scripts/limits/measure.mjs [--runtimes deno,bun,node] [--n 200]
//     [--light-n 1000] [--only idle,body-unread,...] [--out docs/limits] [--no-build]
//
// For every scenario (scenarios.mjs) and runtime, a fresh server
// (scripts/limits/app.mjs, on Node the tsc build in .build/) runs in its
// own process on a Unix socket in a temp dir; this process is the web
// server, speaking raw FastCGI. Per scenario: a warm-up of the scenario
// itself on a few connections (so that code and pools exist before the
// baseline), the baseline (after a full GC in the server, with the
// scenario's connections open and idle), then `count` connections,
// requests or peers put into the state and measured after each stage:
// (memory - baseline) / count, for RSS, the JS heap and external memory
// (ArrayBuffers), as process.memoryUsage() reports them after a full GC.
// Then the peers close, held handlers are answered, and what is left over
// the memory before the connections opened is reported too.
//
// `--n` is the count of the heavy scenarios (params of 256 KiB, bodies,
// floods), `--light-n` that of the light ones (idle connections, typical
// params). At the defaults, the report goes to docs/limits.{json,md}; with
// other counts or --only, to a temp file unless --out is given.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import {
  buildForNode,
  formatFiles,
  machineLoad,
  root,
  RUNTIMES,
  runtimeVersion,
} from "../soak/runtimes.mjs";
import { settled, until } from "./peer.mjs";
import {
  ended,
  KiB,
  LIMITS,
  peerBytesIn,
  SCENARIOS,
  started,
  totalAccepted,
} from "./scenarios.mjs";
import { Server } from "./server.mjs";
import { markdown, table } from "./report.mjs";

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const DEFAULT_N = 200;
const DEFAULT_LIGHT_N = 1000;
const n = Number(option("n", String(DEFAULT_N)));
const lightN = Number(option("light-n", String(DEFAULT_LIGHT_N)));
const runtimes = option("runtimes", RUNTIMES.join(",")).split(",");
const only = option("only", "");
const scenarios = only === "" ? SCENARIOS : SCENARIOS.filter((s) => only.split(",").includes(s.id));
const full = n === DEFAULT_N && lightN === DEFAULT_LIGHT_N && only === "";
const outPrefix = option(
  "out",
  full
    ? path.join(root, "docs", "limits")
    : path.join(os.tmpdir(), `webfcgi-limits-${process.pid}`),
);
/** Connections or requests of a scenario's warm-up. */
const WARM = 3;
for (const runtime of runtimes) {
  if (!RUNTIMES.includes(runtime)) throw new Error(`unknown runtime ${runtime}`);
}
if (scenarios.length === 0) throw new Error(`no scenario matches --only ${only}`);
if (!(n > 0 && lightN > 0)) throw new Error("--n and --light-n must be positive");

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    await Promise.all([...Server.running].map((server) => server.stop()));
    process.exit(130);
  });
}

const FIELDS = ["rss", "heapTotal", "heapUsed", "external", "arrayBuffers"];
const diff = (a, b) => Object.fromEntries(FIELDS.map((f) => [f, (a[f] ?? 0) - (b[f] ?? 0)]));
const per = (delta, count) =>
  Object.fromEntries(FIELDS.map((f) => [f, Math.round((delta[f] / count / KiB) * 100) / 100]));

/** Closes the peers, answers held handlers, waits for the server to drop the connections. */
async function teardown(ctx, state) {
  for (const p of state?.pumps ?? []) p.stop();
  for (const socket of ctx.sockets) socket.destroy();
  // The server closes what it notices; a connection paused on an unread body
  // notices nothing until its handler answers.
  await settled(() => ctx.server.fds(), 500, 3000);
  const openAfterPeersLeft = Math.max(0, ctx.server.fds() - ctx.fdsEmpty);
  await ctx.server.release();
  const closed = await until(() => ctx.server.fds() <= ctx.fdsEmpty, 10000, 100);
  return {
    openAfterPeersLeft,
    closed,
    openAfterRelease: Math.max(0, ctx.server.fds() - ctx.fdsEmpty),
  };
}

/** Puts `count` units into the scenario's state (stages skipped) and tears it down. */
async function warmUp(scenario, server, fdsEmpty, count) {
  const ctx = { server, count, fdsEmpty, sockets: [], base: await server.stats() };
  let state = null;
  try {
    ctx.sockets = await scenario.setup(ctx, count);
    state = await scenario.load(ctx);
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await teardown(ctx, state);
  }
}

async function runScenario(runtime, scenario) {
  const count = scenario.count({ n, lightN });
  const server = await Server.start(runtime, count);
  const result = { id: scenario.id, title: scenario.title, unit: scenario.unit, count, stages: [] };
  let ctx = null;
  let state = null;
  try {
    // A first GC first: on Bun it opens a descriptor of its own.
    await server.mem();
    await warmUp(scenario, server, server.fds(), Math.min(WARM, count));
    const empty = await server.mem();
    ctx = { server, count, fdsEmpty: server.fds(), sockets: [] };
    ctx.sockets = await scenario.setup(ctx, count);
    const baseline = await server.mem();
    ctx.base = baseline;
    const acceptedAtBaseline = totalAccepted(ctx.sockets);
    state = await scenario.load(ctx);
    for (const stage of scenario.stages) {
      const reached = await stage.reach(ctx, state);
      const m = await server.mem();
      const ok = (reached.ok ?? true) && (reached.okIf?.(m) ?? true);
      result.stages.push({
        id: stage.id,
        label: stage.label,
        nominalKiB: stage.nominal === undefined ? null : stage.nominal / KiB,
        msAfterLoad: state.t0 === undefined ? null : m.at - state.t0,
        kibPerUnit: per(diff(m, baseline), count),
        peerKiBIn: Math.round((peerBytesIn(ctx, acceptedAtBaseline) / KiB) * 10) / 10,
        started: started(ctx, m),
        ended: ended(ctx, m),
        memory: m,
        ok,
        note: reached.note ?? null,
      });
    }
    const closing = await teardown(ctx, state);
    ctx = null;
    const after = await server.mem();
    Object.assign(result, {
      empty,
      baseline,
      after,
      connectionKiBPerUnit: per(diff(baseline, empty), count),
      leftKiBPerUnit: per(diff(after, empty), count),
      ...closing,
      alive: server.alive(),
    });
    result.ok = result.stages.every((s) => s.ok) && closing.closed && result.alive;
    return result;
  } catch (error) {
    result.ok = false;
    result.error = String(error?.stack ?? error);
    result.serverOutput = server.output().slice(-2000);
    return result;
  } finally {
    for (const p of state?.pumps ?? []) p.stop();
    for (const socket of ctx?.sockets ?? []) socket.destroy();
    await server.stop();
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
  };
}

const began = Date.now();
if (runtimes.includes("node") && !process.argv.includes("--no-build")) buildForNode();
const versions = Object.fromEntries(runtimes.map((r) => [r, runtimeVersion(r)]));
console.log(
  `webfcgi limits: ${scenarios.length} scenarios on ${
    runtimes.join("/")
  }, N ${n}, light N ${lightN}, load ${machineLoad()}`,
);
const results = {};
for (const runtime of runtimes) {
  const started = Date.now();
  results[runtime] = [];
  for (const scenario of scenarios) {
    process.stdout.write(`  ${runtime} ${scenario.id} ...`);
    const t = Date.now();
    const r = await runScenario(runtime, scenario);
    r.seconds = Math.round((Date.now() - t) / 100) / 10;
    results[runtime].push(r);
    console.log(
      `${r.ok ? " ok" : ` FAIL${r.error ? `: ${r.error.split("\n")[0]}` : ""}`} (${r.seconds} s)`,
    );
  }
  console.log(
    `\n${runtime} ${versions[runtime]} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
  );
  console.log(table(results[runtime]));
  console.log("");
}
const report = {
  date: new Date().toISOString(),
  seconds: Math.round((Date.now() - began) / 1000),
  machine: { ...machine(), loadAfter: machineLoad() },
  versions,
  options: { n, lightN, scenarios: scenarios.map((s) => s.id) },
  limits: LIMITS,
  scenarios: scenarios.map(({ id, title, unit, about }) => ({ id, title, unit, about })),
  results,
};
fs.mkdirSync(path.dirname(outPrefix), { recursive: true });
fs.writeFileSync(`${outPrefix}.json`, JSON.stringify(report, null, 1) + "\n");
fs.writeFileSync(`${outPrefix}.md`, markdown(report));
formatFiles([`${outPrefix}.json`, `${outPrefix}.md`]);
console.log(`took ${report.seconds} s; wrote ${outPrefix}.json and ${outPrefix}.md`);
const ok = Object.values(results).every((list) => list.every((r) => r.ok));
process.exit(ok ? 0 : 1);
