// From raw samples (one per contender, case and round) to medians, spreads,
// per-round paired ratios, and the targets with pass/miss.
import { GO_ID, proxyOf } from "./contenders.mjs";

/** { median, min, max } of the finite numbers in `values` (null when none). */
export function summary(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

const cpuPerRequest = (s) => (s.requests > 0 ? s.cpuMicros / s.requests : NaN);

/**
 * Ratios of `a` to `b` paired by round (both ran in the same round, close in
 * time), so that the machine's drifting load cancels out as far as it can.
 */
function pairedRatio(samples, a, b, caseId, value) {
  const byRound = (id) =>
    new Map(
      samples.filter((s) => s.contender === id && s.case === caseId).map((s) => [s.round, s]),
    );
  const left = byRound(a);
  const right = byRound(b);
  const ratios = [];
  for (const [round, sample] of left) {
    const other = right.get(round);
    if (other) ratios.push(value(sample) / value(other));
  }
  return summary(ratios);
}

/** Aggregates per case and contender. */
export function aggregate(samples, contenders, cases) {
  const table = {};
  for (const kase of cases) {
    table[kase.id] = {};
    for (const c of contenders) {
      const mine = samples.filter((s) => s.contender === c.id && s.case === kase.id);
      if (mine.length === 0) continue;
      const ratio = (
        other,
        value,
      ) => (other && other !== c.id ? pairedRatio(samples, c.id, other, kase.id, value) : null);
      const backendCpu = c.kind !== "ceiling";
      table[kase.id][c.id] = {
        rounds: mine.length,
        rps: summary(mine.map((s) => s.rps)),
        mibps: summary(mine.map((s) => (s.rps * kase.bytes) / (1 << 20))),
        p50: summary(mine.map((s) => s.p50)),
        p99: summary(mine.map((s) => s.p99)),
        cpuPerRequest: backendCpu ? summary(mine.map(cpuPerRequest)) : null,
        nginxCpuPerRequest: summary(
          mine.map((s) => (s.requests > 0 ? s.nginxCpuMicros / s.requests : NaN)),
        ),
        errors: mine.reduce((sum, s) => sum + s.errors + s.non2xx, 0),
        requests: mine.reduce((sum, s) => sum + s.requests, 0),
        vsGo: {
          rps: ratio(GO_ID, (s) => s.rps),
          cpu: backendCpu ? ratio(GO_ID, cpuPerRequest) : null,
        },
        vsProxy: {
          id: proxyOf(c) ?? null,
          rps: ratio(proxyOf(c), (s) => s.rps),
          cpu: ratio(proxyOf(c), cpuPerRequest),
        },
      };
    }
  }
  return table;
}

/** The targets, each measured (median, min–max over rounds) and judged. */
export function targets(table) {
  const rows = [];
  const add = (name, target, unit, value, pass) =>
    rows.push({
      name,
      target,
      unit,
      value: value?.median ?? null,
      min: value?.min ?? null,
      max: value?.max ?? null,
      pass: value ? pass(value.median) : null,
    });
  const atLeast = (name, value, min) => add(name, `>= ${min}x`, "x", value, (v) => v >= min);
  const title = (rt) => rt[0].toUpperCase() + rt.slice(1);
  const entry = (caseId, id) => table[caseId]?.[id];

  // Step 9's targets: hello, Deno and Bun >= 2x Go and Node (24) >= 1.5x;
  // 1 MiB down and up >= 1x Go on every runtime; moonshot: backend CPU per
  // hello within 2x of the runtime's own HTTP server (proxy_pass).
  const helloMin = { deno: 2, bun: 2, node: 1.5 };
  for (const rt of ["deno", "bun", "node"]) {
    atLeast(
      `hello req/s, ${title(rt)} vs Go`,
      entry("hello", `webfcgi-${rt}`)?.vsGo.rps,
      helloMin[rt],
    );
  }
  // The same for two processes (Go uses both cores; PHP-FPM runs 32
  // processes), when those optional contenders ran.
  for (const rt of ["deno", "bun", "node"]) {
    if (!entry("hello", `webfcgi-${rt}-x2`)) continue;
    atLeast(
      `hello req/s, ${title(rt)} with 2 processes vs Go`,
      entry("hello", `webfcgi-${rt}-x2`)?.vsGo.rps,
      helloMin[rt],
    );
  }
  for (
    const [caseId, what] of [
      ["1m", "1 MiB download"],
      ["1m-static", "1 MiB download, no copy per request"],
      ["upload", "1 MiB upload"],
    ]
  ) {
    for (const rt of ["deno", "bun", "node"]) {
      atLeast(`${what} MB/s, ${title(rt)} vs Go`, entry(caseId, `webfcgi-${rt}`)?.vsGo.rps, 1);
    }
  }
  for (const rt of ["deno", "bun", "node"]) {
    const value = entry("hello", `webfcgi-${rt}`)?.vsProxy.cpu;
    add(
      `moonshot: backend CPU per hello, FastCGI vs proxy_pass, ${title(rt)}`,
      "<= 2x",
      "x",
      value,
      (v) => v <= 2,
    );
  }
  return rows;
}
