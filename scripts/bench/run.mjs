// `npm run bench`: webfcgi end to end behind nginx, against Go's
// net/http/fcgi, PHP-FPM, node-fastcgi, nginx proxy_pass to each runtime's
// own HTTP server, and nginx alone; plus in-process micro-benchmarks.
// Writes BENCHMARKS.md, docs/bench.svg and scripts/bench/results.json.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { startBackends, startNginx } from "./backends.mjs";
import { cases as allCases } from "./cases.mjs";
import { CONTENDERS } from "./contenders.mjs";
import { preflight, timedRounds } from "./load.mjs";
import { runMicro } from "./micro_runner.mjs";
import { parseOptions, USAGE } from "./options.mjs";
import { installCleanup, runToEnd, stopAll } from "./procs.mjs";
import { caseTable, markdownPage, microTable, targetsTable } from "./report.mjs";
import { nodeFastcgiVersion, setupLines } from "./setup.mjs";
import { aggregate, targets } from "./stats.mjs";
import { chart } from "./svg.mjs";
import { benchNodes, findTools, machine, missingTools, toolVersions } from "./tools.mjs";
import { WRK_CONNECTIONS, WRK_THREADS } from "./wrk.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, "../..");
const startedAt = Date.now();

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error(error.message);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

const contenders = CONTENDERS.filter((c) => options.only.includes(c.id));
const loadCases = allCases(benchDir).filter((k) => options.cases.includes(k.id));
const microRuntimes = options.cases.includes("micro") ? ["deno", "bun", "node"] : [];
const tools = findTools(root);
const needed = new Set(["node", "tsc", ...microRuntimes]);
if (loadCases.length > 0 && contenders.length > 0) {
  needed.add("wrk").add("nginx");
  for (const c of contenders) for (const tool of c.needs) needed.add(tool);
}
const missing = missingTools(tools, [...needed]);
if (missing) {
  console.error(missing);
  process.exit(1);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webfcgi-bench-"));
const removeDir = () => {
  if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
};
installCleanup(removeDir);
const ctx = {
  root,
  dir,
  tools,
  buildDir: path.join(dir, "build"),
  goBinary: path.join(dir, "gofcgi"),
};
const loadStart = os.loadavg()[0].toFixed(2);
const failures = [];

async function build() {
  const jobs = [];
  if (contenders.some((c) => c.id.startsWith("webfcgi-node")) || microRuntimes.includes("node")) {
    jobs.push(
      runToEnd(tools.node, [
        tools.tsc,
        "-p",
        "scripts/bench/tsconfig.json",
        "--outDir",
        ctx.buildDir,
      ], {
        cwd: root,
      }).then((r) => {
        // tsc emits even with type errors (another helper's half-edited file): say so, go on.
        if (r.code !== 0) {
          console.warn(
            `  tsc reported errors (the build is used anyway):\n${r.stdout.slice(0, 1500)}`,
          );
        }
      }),
    );
  }
  if (contenders.some((c) => c.id === "go-fcgi")) {
    const env = {
      ...process.env,
      GOCACHE: path.join(os.tmpdir(), "webfcgi-bench-gocache"),
      GOPATH: path.join(dir, "gopath"),
      GOPROXY: "off",
      GOFLAGS: "-mod=mod",
      GO111MODULE: "on",
    };
    jobs.push(
      runToEnd(tools.go, ["build", "-o", ctx.goBinary, "."], {
        cwd: path.join(benchDir, "go"),
        env,
        timeoutMs: 300000,
      })
        .then((r) => {
          if (r.code !== 0) throw new Error(`go build failed:\n${r.stderr}`);
        }),
    );
  }
  await Promise.all(jobs);
}

async function main() {
  console.log(`webfcgi bench (${options.quick ? "quick" : "full"}): temp dir ${dir}`);
  const nodes = benchNodes();
  const onNode = (runtime) => [
    ...contenders.filter((c) => c.runtime === runtime).map((c) => c.id),
    ...(runtime === "node" && microRuntimes.includes("node") ? ["micro"] : []),
  ];
  for (
    const [node, runtime, what] of [
      [nodes.bench, "node", "node_modules"],
      [nodes.machine, `node${nodes.machine?.major}`, "the machine's, runs npm"],
    ]
  ) {
    if (node && onNode(runtime).length > 0) {
      console.log(
        `node ${node.version} (${what}: ${
          node.bin.startsWith(root + path.sep) ? path.relative(root, node.bin) : node.bin
        }): ` +
          onNode(runtime).join(", "),
      );
    }
  }
  console.log("building (tsc for Node, go build) ...");
  await build();

  let samples = [];
  let active = [];
  if (loadCases.length > 0 && contenders.length > 0) {
    console.log(`starting ${contenders.map((c) => c.id).join(", ")} ...`);
    const started = await startBackends(ctx, contenders);
    active = started.active;
    failures.push(...started.failures);
    const nginx = await startNginx(ctx, active);
    const ok = await preflight(active, loadCases, failures);
    for (const f of failures) console.warn(`  ! ${f}`);
    console.log(
      `timed: ${options.rounds} round(s) x ${options.seconds} s, each after ${options.warmup} s ` +
        `of warm-up, wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS}`,
    );
    samples = await timedRounds(ctx, active, loadCases, ok, nginx.workers, options, failures);
    await stopAll();
  }

  let micro = {};
  if (microRuntimes.length > 0) {
    console.log("micro-benchmarks ...");
    micro = await runMicro(ctx, microRuntimes, options.quick ? 150 : 500);
  }

  const shown = CONTENDERS.filter((c) => active.some((a) => a.id === c.id));
  const table = aggregate(samples, shown, loadCases);
  const run = {
    meta: {
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      mode: options.quick ? "quick" : "full",
      narrowed: options.narrowed,
      rounds: options.rounds,
      seconds: options.seconds,
      warmup: options.warmup,
      connections: WRK_CONNECTIONS,
      threads: WRK_THREADS,
      totalSeconds: Math.round((Date.now() - startedAt) / 1000),
      machine: machine(),
      loadStart,
      loadEnd: os.loadavg()[0].toFixed(2),
      versions: { ...toolVersions(tools), "node-fastcgi": nodeFastcgiVersion(root) },
      setup: setupLines(),
    },
    cases: loadCases.map(({ expect: _expect, script: _script, ...k }) => k),
    contenders: shown.map(({ launch: _launch, scriptRoot: _root, needs: _needs, ...c }) => c),
    table,
    targets: targets(table),
    micro,
    failures,
    samples,
  };
  printReport(run);
  writeOutputs(run);
}

function printReport(run) {
  console.log("");
  for (const kase of loadCases) {
    if (!run.table[kase.id] || Object.keys(run.table[kase.id]).length === 0) continue;
    console.log(`${kase.label}\n${caseTable(kase, run.table[kase.id], run.contenders)}\n`);
  }
  if (hasSamples(run)) console.log(`Targets\n${targetsTable(run.targets)}\n`);
  if (Object.keys(run.micro).length > 0) {
    console.log(`Micro-benchmarks\n${microTable(run.micro)}\n`);
  }
  for (const f of run.failures) console.log(`! ${f}`);
  console.log(`total: ${run.meta.totalSeconds} s`);
}

const hasSamples = (run) => run.samples.length > 0;

// The project's `deno fmt --check` covers .md and .json: leave them formatted.
function denoFmt(files) {
  try {
    execFileSync(tools.deno, ["fmt", "--quiet", ...files], { cwd: root, stdio: "ignore" });
  } catch {
    console.warn(`  deno fmt failed on ${files.join(", ")}`);
  }
}

function writeOutputs(run) {
  const json = path.join(benchDir, "results.json");
  fs.writeFileSync(json, JSON.stringify(run, null, 2) + "\n");
  const written = [json];
  if ((options.quick || options.narrowed) && !options.write) {
    console.log(
      "BENCHMARKS.md and docs/bench.svg left as they were (quick or narrowed run; --write to write them)",
    );
  } else {
    const page = path.join(root, "BENCHMARKS.md");
    fs.writeFileSync(page, markdownPage(run));
    fs.mkdirSync(path.join(root, "docs"), { recursive: true });
    fs.writeFileSync(path.join(root, "docs/bench.svg"), chart(run));
    written.push(page, path.join(root, "docs/bench.svg"));
  }
  if (tools.deno) denoFmt(written.filter((file) => !file.endsWith(".svg")));
  console.log(`wrote ${written.map((file) => path.relative(root, file)).join(", ")}`);
}

main().then(
  async () => {
    await stopAll();
    removeDir();
    if (options.keep) console.log(`kept ${dir}`);
  },
  async (error) => {
    console.error(`bench failed: ${error?.stack ?? error}`);
    console.error(`logs kept in ${dir}`);
    await stopAll();
    process.exitCode = 1;
  },
);
