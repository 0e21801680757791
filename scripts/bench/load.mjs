// The load phase: check every contender's answers once, then run the timed
// loads in rounds, contenders alternating (order rotated per round), each
// right after its own warm-up, sampling backend and nginx CPU around it.
import { checkCase } from "./cases.mjs";
import { cpuMicros, processTree } from "./cpu.mjs";
import { int, num } from "./format.mjs";
import { runWrk } from "./wrk.mjs";

const url = (c, kase) => `http://127.0.0.1:${c.port}${kase.path}`;

/** Pairs (contender, case) that answer correctly; the others go to `failures`. */
export async function preflight(active, loadCases, failures) {
  const ok = new Set();
  for (const kase of loadCases) {
    for (const c of active) {
      const problem = await checkCase(c.port, kase);
      if (problem === null) ok.add(`${c.id}/${kase.id}`);
      else failures.push(`${c.id}: ${kase.id} answered wrongly, left out: ${problem}`);
    }
  }
  return ok;
}

// A V8 runtime left idle while the other contenders run loses much of its
// compiled code: measured on Deno, a hello cost 41 µs before 90 s of
// idleness and 125, 84 and 53 µs in the 1, 2 and 3 s after it (Node: 206 µs
// in the first second, 102 µs three seconds later; Bun: no change). So every timed load comes right after an
// untimed one against the same contender and case: the figures are steady
// state for every runtime alike.
async function warmUp(ctx, c, kase, seconds) {
  await runWrk(ctx.tools.wrk, url(c, kase), seconds, kase.script).catch(() => {});
}

function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Runs `rounds` rounds; returns the samples. */
export async function timedRounds(ctx, active, loadCases, ok, nginxWorkers, options, failures) {
  const samples = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const kase of loadCases) {
      for (const c of rotate(active, round - 1)) {
        if (!ok.has(`${c.id}/${kase.id}`)) continue;
        await warmUp(ctx, c, kase, options.warmup);
        const pids = c.proc ? processTree(c.proc.pid) : [];
        const backendBefore = cpuMicros(pids);
        const nginxBefore = cpuMicros(nginxWorkers);
        let result;
        try {
          result = await runWrk(ctx.tools.wrk, url(c, kase), options.seconds, kase.script);
        } catch (error) {
          failures.push(
            `${c.id}: ${kase.id} round ${round}: ${String(error?.message ?? error).slice(0, 300)}`,
          );
          continue;
        }
        const sample = {
          round,
          case: kase.id,
          contender: c.id,
          ...result,
          cpuMicros: c.proc ? cpuMicros(pids) - backendBefore : NaN,
          nginxCpuMicros: cpuMicros(nginxWorkers) - nginxBefore,
        };
        samples.push(sample);
        const cpu = c.proc ? `${num(sample.cpuMicros / Math.max(1, sample.requests))} µs/req` : "";
        const bad = result.errors + result.non2xx > 0
          ? `  ERRORS ${result.errors + result.non2xx}`
          : "";
        console.log(
          `  round ${round}/${options.rounds}  ${kase.id.padEnd(9)} ${c.id.padEnd(13)} ` +
            `${int(result.rps).padStart(8)} req/s  p99 ${
              num(result.p99).padStart(6)
            } ms  ${cpu}${bad}`,
        );
      }
    }
  }
  return samples;
}
