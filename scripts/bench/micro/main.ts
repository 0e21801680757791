// Micro-benchmarks, run unchanged by deno and bun (from source) and by node
// (from the bench's tsc build): prints one JSON line with the results.
// Usage: main.ts [budget ms per measurement]
import process from "node:process";
import { codecBenchmarks } from "./codec.ts";
import { exchangeBenchmarks } from "./exchange.ts";
import type { MicroResult } from "./harness.ts";
import { mappingBenchmarks } from "./mapping.ts";

const budgetMs = Number(process.argv[2] ?? 500);
const results: MicroResult[] = await codecBenchmarks(budgetMs);
let unavailable: string | null = null;
try {
  results.push(...await mappingBenchmarks(budgetMs));
  results.push(...await exchangeBenchmarks(budgetMs));
} catch (error) {
  unavailable = `mapping: ${error instanceof Error ? error.message : String(error)}`;
}
console.log(JSON.stringify({ results, unavailable }));
