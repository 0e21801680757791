// Runs the fuzz targets for a seed and a number of inputs per target, with a
// watchdog per input, and turns every failure into a replayable fixture.
import * as fs from "node:fs";
import * as path from "node:path";
import {
  concat,
  type FuzzCase,
  generateCase,
  generatePairs,
  serialize,
  STATES,
  typeInState,
} from "./generate.ts";
import { Prng } from "./prng.ts";
import { generateResponse, type ResponseSpec } from "./response.ts";
import {
  checkConnection,
  checkDecoder,
  checkPairs,
  checkResponse,
  FIN_BOUND_MS,
  pool,
  ProcessWatch,
  SocketFuzzer,
  STALL_BOUND_MS,
  type Target,
} from "./targets.ts";

export interface Fixture {
  target: Target;
  kind: string;
  seed: number;
  index: number;
  fin: boolean;
  splits: number[];
  hex: string;
  /** For pairs inputs that were valid encodings: the pairs, hex, to check the round trip. */
  pairs?: Array<[string, string]> | null;
  /** For the response target: what the handler returned. */
  response?: ResponseSpec;
  failure: string;
}

export interface Failure {
  fixture: Fixture;
  file: string | null;
}

export interface RunCounts {
  decoder: number;
  pairs: number;
  connection: number;
  /** The 256 types x 4 states x keep-conn sweep, in-process (adds 2048 inputs). */
  typeStateSweep: boolean;
  /** Handler responses (statuses, headers, bodies), in-process. */
  response: number;
  socket: number;
}

export interface RunOptions {
  seed: number;
  counts: RunCounts;
  socketConcurrency?: number;
  /** Socket inputs between two health checks. */
  batch?: number;
  /** Where failing inputs are written; null writes nothing. */
  regressionsDir: string | null;
  /** Stop a target after this many failures. */
  maxFailures?: number;
  progress?: (line: string) => void;
}

export interface RunReport {
  seed: number;
  inputs: Record<Target | "typeState", number>;
  socketBatches: number;
  healthChecks: number;
  durationMs: Record<Target | "typeState", number>;
  failures: Failure[];
  logLines: number;
}

// Each target draws from its own stream, so changing one count never changes another target's inputs.
const SALT: Record<Target | "typeState", number> = {
  response: 0x2e5b0,
  decoder: 0x0dec0de,
  pairs: 0x9a125,
  connection: 0xc0ee,
  socket: 0x50c7e7,
  typeState: 0x7e57a7e,
};

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Rejects with a clear message if `promise` takes longer than `ms`. */
export function watchdog<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watchdog: ${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function save(dir: string | null, fixture: Fixture): string | null {
  if (dir === null) return null;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${fixture.target}-s${fixture.seed}-i${fixture.index}.json`);
  fs.writeFileSync(file, JSON.stringify(fixture, null, 2) + "\n");
  return file;
}

export async function runFuzz(options: RunOptions): Promise<RunReport> {
  const { seed, counts } = options;
  const maxFailures = options.maxFailures ?? 5;
  const progress = options.progress ?? (() => {});
  const report: RunReport = {
    seed,
    inputs: { decoder: 0, pairs: 0, connection: 0, socket: 0, typeState: 0, response: 0 },
    socketBatches: 0,
    healthChecks: 0,
    durationMs: { decoder: 0, pairs: 0, connection: 0, socket: 0, typeState: 0, response: 0 },
    failures: [],
    logLines: 0,
  };
  const failuresOf = (target: Target) =>
    report.failures.filter((f) => f.fixture.target === target).length;
  const fail = (
    target: Target,
    index: number,
    c: Pick<FuzzCase, "kind" | "bytes" | "splits" | "fin">,
    failure: string,
    pairs?: Array<[Uint8Array, Uint8Array]> | null,
    response?: ResponseSpec,
  ) => {
    const fixture: Fixture = {
      target,
      kind: c.kind,
      seed,
      index,
      fin: c.fin,
      splits: c.splits,
      hex: toHex(c.bytes),
      pairs: pairs === undefined
        ? undefined
        : pairs === null
        ? null
        : pairs.map(([n, v]) => [toHex(n), toHex(v)]),
      response,
      failure,
    };
    const file = save(options.regressionsDir, fixture);
    report.failures.push({ fixture, file });
    progress(
      `FAIL ${target} #${index} (${c.kind}): ${failure}${file ? `\n  fixture: ${file}` : ""}`,
    );
  };

  const watch = new ProcessWatch();
  watch.install();
  try {
    // decoder
    let t0 = Date.now();
    let r = new Prng(seed ^ SALT.decoder);
    for (let i = 0; i < counts.decoder && failuresOf("decoder") < maxFailures; i++) {
      // Fewer large bodies here: the decoder's assembly of 64 KiB records needs only some.
      const c = generateCase(r, undefined, { big: 0.005 });
      const problem = checkDecoder(c);
      report.inputs.decoder++;
      if (problem !== null) fail("decoder", i, c, problem);
      if ((i & 0x3ffff) === 0x3ffff) progress(`decoder: ${i + 1} inputs`);
    }
    report.durationMs.decoder = Date.now() - t0;

    // name-value pairs
    t0 = Date.now();
    r = new Prng(seed ^ SALT.pairs);
    for (let i = 0; i < counts.pairs && failuresOf("pairs") < maxFailures; i++) {
      const p = generatePairs(r);
      const problem = checkPairs(p.bytes, p.valid);
      report.inputs.pairs++;
      if (problem !== null) {
        fail(
          "pairs",
          i,
          { kind: p.kind, bytes: p.bytes, splits: [], fin: false },
          problem,
          p.valid,
        );
      }
    }
    report.durationMs.pairs = Date.now() - t0;

    // every record type in every state, in-process
    t0 = Date.now();
    if (counts.typeStateSweep) {
      r = new Prng(seed ^ SALT.typeState);
      let i = 0;
      for (let type = 0; type < 256; type++) {
        for (const state of STATES) {
          for (const keepConn of [false, true]) {
            const c: FuzzCase = {
              kind: `type-state:${type}@${state}${keepConn ? "+keep" : ""}`,
              bytes: serialize(typeInState(r, type, state, keepConn)),
              splits: [],
              fin: false,
            };
            const before = watch.problems.length;
            let problem = await watchdog(
              checkConnection(c, "eager"),
              10_000,
              `type-state input ${i}`,
            ).catch((e) => String(e));
            problem ??= watch.since(before);
            report.inputs.typeState++;
            if (problem !== null) fail("connection", -1 - i, c, problem);
            i++;
          }
        }
      }
    }
    report.durationMs.typeState = Date.now() - t0;

    // what handlers return, in-process
    t0 = Date.now();
    r = new Prng(seed ^ SALT.response);
    for (let i = 0; i < counts.response && failuresOf("response") < maxFailures; i++) {
      const spec = generateResponse(r);
      const before = watch.problems.length;
      let problem = await watchdog(checkResponse(spec), 10_000, `response input ${i}`).catch((e) =>
        String(e)
      );
      problem ??= watch.since(before);
      report.inputs.response++;
      if (problem !== null) {
        fail(
          "response",
          i,
          {
            kind: `response:${spec.form}/${spec.headersForm}`,
            bytes: new Uint8Array(0),
            splits: [],
            fin: false,
          },
          problem,
          undefined,
          spec,
        );
      }
    }
    report.durationMs.response = Date.now() - t0;

    // the responder, in-process
    t0 = Date.now();
    r = new Prng(seed ^ SALT.connection);
    for (let i = 0; i < counts.connection && failuresOf("connection") < maxFailures; i++) {
      const c = generateCase(r);
      const before = watch.problems.length;
      let problem = await watchdog(checkConnection(c), 10_000, `connection input ${i}`).catch((e) =>
        String(e)
      );
      problem ??= watch.since(before);
      report.inputs.connection++;
      if (problem !== null) fail("connection", i, c, problem);
      if ((i & 0x3fff) === 0x3fff) progress(`connection: ${i + 1} inputs`);
    }
    report.durationMs.connection = Date.now() - t0;

    // the responder over real sockets, in batches, with a health check after each
    t0 = Date.now();
    if (counts.socket > 0) {
      r = new Prng(seed ^ SALT.socket);
      const fuzzer = await SocketFuzzer.start();
      try {
        const batch = options.batch ?? 200;
        for (
          let start = 0;
          start < counts.socket && failuresOf("socket") < maxFailures;
          start += batch
        ) {
          const cases: FuzzCase[] = [];
          for (let i = start; i < Math.min(counts.socket, start + batch); i++) {
            cases.push(generateCase(r));
          }
          const before = watch.problems.length;
          await pool(cases, options.socketConcurrency ?? 32, async (c, k) => {
            const problem = await watchdog(
              fuzzer.run(c),
              STALL_BOUND_MS + FIN_BOUND_MS + 5000,
              `socket input ${start + k}`,
            )
              .catch((e) => String(e));
            report.inputs.socket++;
            if (problem !== null) fail("socket", start + k, c, problem);
          });
          report.socketBatches++;
          const problems = watch.since(before);
          if (problems !== null) {
            // Something went wrong process-wide during the batch: find the input by replaying them one by one.
            let found = false;
            for (let k = 0; k < cases.length && !found; k++) {
              const mark = watch.problems.length;
              await watchdog(fuzzer.run(cases[k]), STALL_BOUND_MS + FIN_BOUND_MS + 5000, "bisect")
                .catch(() => null);
              await new Promise((resolve) => setTimeout(resolve, 50));
              const p = watch.since(mark);
              if (p !== null) {
                fail("socket", start + k, cases[k], p);
                found = true;
              }
            }
            if (!found) {
              fail(
                "socket",
                start,
                { kind: "batch", bytes: concat(cases.map((c) => c.bytes)), splits: [], fin: false },
                `during batch ${start}-${
                  start + cases.length - 1
                } (not reproduced one by one): ${problems}`,
              );
            }
          }
          const health = await watchdog(fuzzer.healthy(), 10_000, "health check").catch((e) =>
            String(e)
          );
          report.healthChecks++;
          if (health !== null) {
            fail("socket", start, {
              kind: "health",
              bytes: new Uint8Array(0),
              splits: [],
              fin: false,
            }, `after batch ${start}: ${health}`);
            break;
          }
          if (((start / batch) & 7) === 7) progress(`socket: ${start + cases.length} inputs`);
        }
      } finally {
        await fuzzer.stop();
      }
    }
    report.durationMs.socket = Date.now() - t0;
  } finally {
    report.logLines = watch.logLines;
    watch.uninstall();
  }
  return report;
}

/** Replays one fixture against its target; returns the failure, or null. */
export async function replay(fixture: Fixture, fuzzer?: SocketFuzzer): Promise<string | null> {
  const c: FuzzCase = {
    kind: fixture.kind,
    bytes: fromHex(fixture.hex),
    splits: fixture.splits,
    fin: fixture.fin,
  };
  const watch = new ProcessWatch();
  watch.install();
  try {
    let problem: string | null;
    switch (fixture.target) {
      case "decoder":
        problem = checkDecoder(c);
        break;
      case "pairs":
        problem = checkPairs(
          c.bytes,
          fixture.pairs ? fixture.pairs.map(([n, v]) => [fromHex(n), fromHex(v)]) : null,
        );
        break;
      case "connection":
        problem = await watchdog(
          checkConnection(c, fixture.kind.startsWith("type-state") ? "eager" : undefined),
          10_000,
          "replay",
        );
        break;
      case "response":
        problem = await watchdog(checkResponse(fixture.response!), 10_000, "replay");
        break;
      case "socket":
        if (fuzzer === undefined) throw new Error("a socket fixture needs a SocketFuzzer");
        problem = await watchdog(fuzzer.run(c), STALL_BOUND_MS + FIN_BOUND_MS + 5000, "replay");
        problem ??= await fuzzer.healthy();
        break;
    }
    // Let late rejections surface before judging.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return problem ?? watch.since(0);
  } finally {
    watch.uninstall();
  }
}

/** The seed/count/time summary lines printed by `npm run fuzz`. */
export function summary(report: RunReport): string[] {
  const total = Object.values(report.inputs).reduce((a, b) => a + b, 0);
  const ms = Object.values(report.durationMs).reduce((a, b) => a + b, 0);
  const rate = (
    n: number,
    t: number,
  ) => (t > 0 ? Math.round((n * 1000) / t) : n > 0 ? Infinity : 0);
  const lines = [
    `seed ${report.seed}`,
    `inputs ${total} in ${(ms / 1000).toFixed(1)} s (${rate(total, ms)}/s)`,
  ];
  for (
    const target of ["decoder", "pairs", "typeState", "response", "connection", "socket"] as const
  ) {
    const n = report.inputs[target];
    const t = report.durationMs[target];
    lines.push(
      `  ${target.padEnd(10)} ${String(n).padStart(8)} inputs  ${
        (t / 1000).toFixed(1).padStart(7)
      } s  ${String(rate(n, t)).padStart(8)}/s`,
    );
  }
  lines.push(
    `  socket batches ${report.socketBatches}, health checks ${report.healthChecks} (each a fresh 200 from both servers)`,
  );
  lines.push(`  library log lines while fuzzing: ${report.logLines}`);
  lines.push(`failures ${report.failures.length}`);
  for (const f of report.failures) {
    lines.push(
      `  ${f.fixture.target} #${f.fixture.index} ${f.fixture.kind}: ${f.fixture.failure}${
        f.file ? ` -> ${f.file}` : ""
      }`,
    );
  }
  return lines;
}
