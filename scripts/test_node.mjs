// The Node part of `npm test`: the tsc build's tests and the npm package's
// smoke test on each supported Node line (scripts/node_lines.mjs: the
// node<major> devDependencies, installed by npm ci).
//
//     npm run build:tsc && npm run build && node scripts/test_node.mjs
//     node scripts/test_node.mjs --line 24 --no-smoke .build/tests/cli/
//
// For each line, oldest first:
//   1. `node --test --test-concurrency=1 .build/tests/` (or the paths given)
//      on that line's binary, with its directory first on PATH (tests that
//      spawn `node` get the same line), spec reporter on stdout, the counts
//      from a second (TAP) reporter;
//   2. scripts/npm_smoke.mjs node --runtimes-only on that binary: the packed
//      package imported and required by name, and its `webfcgi` bin through npx.
// Then once, on the newest line: the npm smoke test's other parts (Bun,
// Deno, the consumer's types, publint and attw). Every line runs even when
// an earlier one failed; the summary says which line ran which part and how
// it went, and the exit code is non-zero if any part failed anywhere.
//
// Options: --line 22,24 (only those lines), --no-smoke (tests only).

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { envWithNode, nodeLines, root } from "./node_lines.mjs";

function die(message) {
  console.error(`test:node: ${message}`);
  process.exit(2);
}

const argv = process.argv.slice(2);
let only = null;
let smoke = true;
const paths = [];
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === "--line" || arg.startsWith("--line=")) {
    const value = arg.includes("=") ? arg.slice(7) : argv[++i];
    if (!value) die("--line needs a value, e.g. --line 24 or --line 22,26");
    only = value.split(",").map(Number);
  } else if (arg === "--no-smoke") smoke = false;
  else if (arg.startsWith("--")) die(`unknown option ${arg}`);
  else paths.push(arg);
}
if (paths.length === 0) paths.push(".build/tests/");

const all = nodeLines();
if (all.length === 0) die("package.json has no node<major> devDependencies");
const lines = only ? all.filter((line) => only.includes(line.major)) : all;
for (const major of only ?? []) {
  if (!all.some((line) => line.major === major)) {
    die(`no Node ${major} in package.json (lines: ${all.map((l) => l.major).join(", ")})`);
  }
}
const absent = lines.filter((line) => !line.present);
if (absent.length > 0) {
  die(
    `${absent.map((l) => `node_modules/${l.alias}`).join(", ")} missing: run npm ci ` +
      "(the Node binaries are devDependencies)",
  );
}
for (const line of lines) {
  if (line.version !== line.pinned) {
    die(
      `node_modules/${line.alias} is ${line.version}, package.json pins ${line.pinned}: run npm ci`,
    );
  }
}
for (const path of paths) {
  if (!existsSync(join(root, path))) die(`${path} not found: run npm run build:tsc first`);
}
// Node 20 searched a directory given to --test for test files; since Node 21
// every argument is a file or a glob, and a directory fails as a module that
// cannot be found. So a directory becomes Node's own default patterns, under it.
const TEST_NAMES = [
  "**/*.test.{cjs,mjs,js}",
  "**/*-test.{cjs,mjs,js}",
  "**/*_test.{cjs,mjs,js}",
  "**/test-*.{cjs,mjs,js}",
  "**/test.{cjs,mjs,js}",
  "**/test/**/*.{cjs,mjs,js}",
];
const testArgs = paths.flatMap((path) =>
  statSync(join(root, path)).isDirectory()
    ? TEST_NAMES.map((name) => `${path.replace(/\/+$/, "")}/${name}`)
    : [path]
);
if (smoke && !existsSync(join(root, "npm", "package.json"))) {
  die("npm/ is not built: run npm run build first");
}

const label = (line) => `Node ${line.major} (v${line.version})`;
const phase = (text) => console.log(`\n=== ${text} ===`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function run(bin, args) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(bin, args, {
      cwd: root,
      env: envWithNode(bin),
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", (error) => resolve({ code: error.message, ms: Date.now() - started }));
    child.on(
      "close",
      (code, signal) => resolve({ code: code ?? signal, ms: Date.now() - started }),
    );
  });
}

/** Counts (`# pass 12` ...) and the skipped tests' lines of node:test's TAP output. */
function readTap(file) {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { counts: null, skipped: [] };
  }
  const counts = {};
  for (
    const match of text.matchAll(/^# (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/gm)
  ) {
    counts[match[1]] = Number(match[2]);
  }
  const skipped = [...text.matchAll(/^\s*ok \d+ - (.*# SKIP.*)$/gm)].map((m) => m[1].trim());
  return { counts: "tests" in counts ? counts : null, skipped };
}

const temp = mkdtempSync(join(tmpdir(), "webfcgi-test-node-"));
const results = [];
console.log(
  `test:node: ${lines.map(label).join(", ")} from node_modules/node<major>; ` +
    `tests ${paths.join(" ")}${smoke ? ", then the npm smoke test" : ""}`,
);

for (const line of lines) {
  const result = { line, tests: null, smoke: null };
  results.push(result);

  phase(`${label(line)}: node --test ${paths.join(" ")}`);
  const tap = join(temp, `node${line.major}.tap`);
  const tests = await run(line.bin, [
    "--test",
    "--test-concurrency=1",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...testArgs,
  ]);
  result.tests = { ...tests, ...readTap(tap) };

  if (smoke) {
    phase(`${label(line)}: npm smoke (import, require, the webfcgi bin)`);
    result.smoke = await run(line.bin, ["scripts/npm_smoke.mjs", "node", "--runtimes-only"]);
  }
}

let rest = null;
const newest = lines.at(-1);
if (smoke) {
  phase(`${label(newest)}: npm smoke (Bun, Deno, types, publint, attw)`);
  rest = await run(newest.bin, ["scripts/npm_smoke.mjs", "bun", "deno"]);
}
rmSync(temp, { recursive: true, force: true });

// --- summary ----------------------------------------------------------------

phase("test:node summary");
const failed = [];
const verdict = (part, ok, where) => {
  if (!ok) failed.push(`${where}: ${part}`);
  return ok ? "PASS" : "FAIL";
};
for (const { line, tests, smoke: smokeResult } of results) {
  const c = tests.counts;
  const ok = tests.code === 0 && c !== null && c.fail === 0 && c.cancelled === 0;
  const counts = c
    ? `${c.tests} tests: ${c.pass} pass, ${c.fail} fail, ${c.skipped} skipped, ` +
      `${c.todo} todo, ${c.cancelled} cancelled`
    : "no counts (the runner did not finish)";
  console.log(
    `${label(line)}  node --test ${verdict("node --test", ok, label(line))} ` +
      `(${counts}; exit ${tests.code}; ${seconds(tests.ms)})`,
  );
  if (smokeResult) {
    console.log(
      `${label(line)}  npm smoke ${verdict("npm smoke", smokeResult.code === 0, label(line))} ` +
        `(exit ${smokeResult.code}; ${seconds(smokeResult.ms)})`,
    );
  }
}
if (rest) {
  console.log(
    `${label(newest)}  npm smoke Bun, Deno, types, publint, attw ` +
      `${verdict("npm smoke (Bun, Deno, types, package)", rest.code === 0, label(newest))} ` +
      `(exit ${rest.code}; ${seconds(rest.ms)})`,
  );
}

// Skips that differ between lines: a test that one Node skips and another runs.
if (results.length > 1) {
  const everywhere = results.map((r) => new Set(r.tests.skipped));
  for (const { line, tests } of results) {
    const own = tests.skipped.filter((s) => !everywhere.every((set) => set.has(s)));
    for (const s of own) console.log(`skipped on ${label(line)} only (not on every line): ${s}`);
  }
}

if (failed.length > 0) {
  console.log(`test:node: FAIL: ${failed.join("; ")}`);
  process.exit(1);
}
console.log(`test:node: PASS on ${lines.map(label).join(", ")}`);
