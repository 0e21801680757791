// wrk runner and parser: one bounded load against one URL.
import { runToEnd } from "./procs.mjs";

/** Threads and connections of every load (stated in BENCHMARKS.md). */
export const WRK_THREADS = 1;
export const WRK_CONNECTIONS = 32;

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };

function toMs(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2]] : NaN;
}

/**
 * Parses wrk's report (run with --latency).
 * @returns {{ requests: number, seconds: number, rps: number, p50: number, p99: number, errors: number, non2xx: number }}
 */
export function parseWrk(text) {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const p50 = /^\s+50%\s+(\S+)/m.exec(text);
  const p99 = /^\s+99%\s+(\S+)/m.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (!total || !rps) throw new Error(`cannot parse wrk output:\n${text}`);
  return {
    requests: Number(total[1]),
    seconds: toMs(`${total[2]}${total[3]}`) / 1000,
    rps: Number(rps[1]),
    p50: p50 ? toMs(p50[1]) : NaN,
    p99: p99 ? toMs(p99[1]) : NaN,
    errors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/** Runs wrk for `seconds` against `url` (with a Lua `script` if given). */
export async function runWrk(wrk, url, seconds, script) {
  const args = [
    `-t${WRK_THREADS}`,
    `-c${WRK_CONNECTIONS}`,
    `-d${seconds}s`,
    "--latency",
    "--timeout",
    "5s",
    ...(script ? ["-s", script] : []),
    url,
  ];
  const result = await runToEnd(wrk, args, { timeoutMs: (seconds + 15) * 1000 });
  if (result.code !== 0) {
    throw new Error(
      `wrk ${args.join(" ")} failed (${result.code ?? result.signal}): ${result.stderr}`,
    );
  }
  return parseWrk(result.stdout);
}
