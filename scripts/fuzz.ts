// `npm run fuzz`: the long fuzz run. Prints the seed, the counts and the
// throughput; every failing input is written to tests/fuzz/regressions/ as a
// fixture that tests/fuzz/regressions.test.ts replays.
//
//   deno run -A scripts/fuzz.ts [--count 1000000] [--seed N] [--socket 20000]
//                               [--connection N] [--concurrency 32] [--no-save]
//
// --count is the total number of inputs: --socket of them go through real
// sockets, --connection through the in-process responder (default 10%), the
// 2048-input type-by-state sweep runs once, and the rest are split between
// the record decoder (70%) and the name-value decoders (30%), after --response
// handler responses (default 2%).
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { freshSeed } from "../tests/fuzz/prng.ts";
import { runFuzz, summary } from "../tests/fuzz/runner.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const count = Number(arg("count") ?? 1_000_000);
const seed = arg("seed") !== undefined ? Number(arg("seed")) >>> 0 : freshSeed();
const socket = Math.min(count, Number(arg("socket") ?? 20_000));
const connection = Math.min(count - socket, Number(arg("connection") ?? Math.round(count / 10)));
const sweep = 2048;
const response = Math.min(
  Math.max(0, count - socket - connection - sweep),
  Number(arg("response") ?? Math.round(count / 50)),
);
const rest = Math.max(0, count - socket - connection - sweep - response);
const decoder = Math.round(rest * 0.7);
const pairs = rest - decoder;
const here = path.dirname(fileURLToPath(import.meta.url));
const regressionsDir = process.argv.includes("--no-save")
  ? null
  : path.join(here, "..", "tests", "fuzz", "regressions");

console.log(
  `webfcgi fuzz: seed ${seed}, ${count} inputs (decoder ${decoder}, pairs ${pairs}, type-state sweep ${sweep}, handler responses ${response}, in-process responder ${connection}, sockets ${socket})`,
);
console.log(`replay this run with: deno run -A scripts/fuzz.ts --count ${count} --seed ${seed}`);
const started = Date.now();
const report = await runFuzz({
  seed,
  counts: { decoder, pairs, connection, typeStateSweep: true, response, socket },
  socketConcurrency: Number(arg("concurrency") ?? 32),
  regressionsDir,
  progress: (line) => console.log(`  ${line}`),
});
for (const line of summary(report)) console.log(line);
console.log(`wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(report.failures.length === 0 ? 0 : 1);
