// Command-line options of `npm run bench -- ...`.
import { CONTENDERS } from "./contenders.mjs";

export const USAGE = `usage: npm run bench -- [options]
  --quick               short loads (1 round x 1 s): checks that the suite works (~2 min)
  --only a,b,...        contenders (ids or prefixes: ${CONTENDERS.map((c) => c.id).join(", ")})
  --case a,b,...        cases: hello, 1m, 1m-static, upload, stream16k, micro
  --rounds N            rounds (default 3; quick 1)
  --seconds N           seconds per timed load (default 3; quick 1)
  --warmup N            seconds of untimed load right before every timed load (default 3; quick 1)
  --all                 also the optional contenders (webfcgi with 2 processes: ${
  CONTENDERS.filter((c) => c.optional).map((c) => c.id).join(", ")
})
  --keep                keep the run's temp dir (configs and logs of every process)
  --write               write BENCHMARKS.md and docs/bench.svg even for a quick or narrowed run
  --help`;

export const CASE_IDS = ["hello", "1m", "1m-static", "upload", "stream16k", "micro"];

function list(value, known, what) {
  const wanted = value.split(",").map((s) => s.trim()).filter(Boolean);
  // An exact id means that one only; anything else is a prefix.
  const matches = (w, id) => known.includes(w) ? id === w : id.startsWith(w);
  const picked = known.filter((id) => wanted.some((w) => matches(w, id)));
  const unknown = wanted.filter((w) => !known.some((id) => id === w || id.startsWith(w)));
  if (unknown.length > 0) throw new Error(`unknown ${what}: ${unknown.join(", ")}`);
  return picked;
}

function positiveInt(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`${name} wants a whole number >= 1, got ${value}`);
  }
  return n;
}

/** Parses argv (after `node run.mjs`). */
export function parseOptions(argv) {
  const options = {
    quick: false,
    only: CONTENDERS.filter((c) => !c.optional).map((c) => c.id),
    cases: CASE_IDS,
    rounds: null,
    seconds: null,
    warmup: null,
    write: false,
    keep: false,
    help: false,
    narrowed: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--quick":
        options.quick = true;
        break;
      case "--only":
        options.only = list(value(), CONTENDERS.map((c) => c.id), "contender");
        options.narrowed = true;
        break;
      case "--case":
      case "--cases":
        options.cases = list(value(), CASE_IDS, "case");
        options.narrowed = true;
        break;
      case "--rounds":
        options.rounds = positiveInt(value(), flag);
        break;
      case "--seconds":
        options.seconds = positiveInt(value(), flag);
        break;
      case "--warmup":
        options.warmup = positiveInt(value(), flag);
        break;
      case "--keep":
        options.keep = true;
        break;
      case "--all":
        options.only = CONTENDERS.map((c) => c.id);
        break;
      case "--write":
        options.write = true;
        break;
      case "--help":
      case "-h":
        options.help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  options.rounds ??= options.quick ? 1 : 3;
  options.seconds ??= options.quick ? 1 : 3;
  options.warmup ??= options.quick ? 1 : 3;
  return options;
}
