// Runs only the in-process exchange benchmarks and prints µs per request:
// a quick A/B for changes on the hot path (deno run -A, bun, or node on the
// bench's tsc build). Usage: exchange_main.ts [budget ms per measurement]
import process from "node:process";
import { exchangeBenchmarks } from "./exchange.ts";

for (const result of await exchangeBenchmarks(Number(process.argv[2] ?? 3000))) {
  console.log(`${(result.nsPerOp / 1000).toFixed(2).padStart(7)} µs  ${result.name}`);
}
