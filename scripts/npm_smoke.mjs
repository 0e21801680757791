// Smoke test of the built npm package, as a user installs it.
//
//     npm run build && node scripts/npm_smoke.mjs [node] [bun] [deno] [--runtimes-only] [--keep]
//
// Packs npm/ with `npm pack`, installs the tarball into a fresh temporary
// project (offline: the package has no dependencies), and runs
// scripts/npm_smoke_check.mjs there under each runtime (default: all three;
// node is the Node that runs this script, bun and deno come from this repo's
// node_modules/.bin). The check imports "@webfcgi/webfcgi" by name; on Node,
// scripts/npm_smoke_require.cjs also require()s it. A "types" step then type-checks a small
// consumer against the installed .d.ts with this repo's tsc, the way a
// TypeScript user without @types/node sees them (lib CONSUMER_LIB,
// skipLibCheck off). Prints PASS/FAIL/SKIP per step and exits non-zero on any
// failure. Then the package itself is checked (scripts/npm_package_lint.mjs:
// publint, @arethetypeswrong/cli, package.json against deno.json, README)
// and its `webfcgi` bin is run under each runtime (scripts/npm_smoke_cli.mjs:
// --help, serve examples/hello.ts, request, SIGTERM; on Node through npx,
// with this script's Node first on PATH, so the bin's `#!/usr/bin/env node`
// runs that same Node, which the step checks). --runtimes-only leaves out the
// types and package steps (scripts/test_node.mjs runs them once, not on every
// Node line). The temporary folder is removed unless a step failed or --keep
// is given.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { lintPackage } from "./npm_package_lint.mjs";
import { binCommand, cliSmoke, writeHelloApp } from "./npm_smoke_cli.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const packageDir = join(root, "npm");
const bin = (name) => join(root, "node_modules", ".bin", name);
const onNode = !process.versions.bun && !process.versions.deno;
const nodeBin = onNode ? process.execPath : "node";
// Every child (npm, npx, tsc, the bin's `#!/usr/bin/env node`) runs on this
// Node, not on whichever `node` comes first on PATH.
if (onNode) process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ""}`;
const RUNTIMES = {
  node: {
    command: nodeBin,
    args: ["smoke.mjs"],
    present: () => true,
    // require() of the package, as a CommonJS consumer does it.
    also: [["smoke_require.cjs"]],
  },
  bun: { command: bin("bun"), args: ["smoke.mjs"], present: () => existsSync(bin("bun")) },
  deno: {
    command: bin("deno"),
    args: ["run", "--allow-all", "smoke.mjs"],
    present: () => existsSync(bin("deno")),
  },
};
const TIMEOUT_MS = 60_000;
/** The lib a TypeScript consumer is assumed to have (no @types/node). */
// `await using` needs the disposable lib (Deno, Bun and @types/node all bring it).
const CONSUMER_LIB = ["ES2022", "ESNext.Disposable", "DOM", "DOM.Iterable"];

const argv = process.argv.slice(2);
const keep = argv.includes("--keep");
const runtimesOnly = argv.includes("--runtimes-only");
for (const flag of argv.filter((arg) => arg.startsWith("--"))) {
  if (flag !== "--keep" && flag !== "--runtimes-only") die(`unknown option ${flag}`);
}
const wanted = argv.filter((arg) => !arg.startsWith("--"));
for (const name of wanted) {
  if (!(name in RUNTIMES)) die(`unknown runtime ${name} (node, bun, deno)`);
}
const runtimes = wanted.length > 0 ? wanted : Object.keys(RUNTIMES);

function die(message) {
  console.error(`npm smoke: FAIL: ${message}`);
  process.exit(1);
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: TIMEOUT_MS,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trimEnd();
  let problem = null;
  if (result.error?.code === "ETIMEDOUT") {
    problem = `did not exit within ${TIMEOUT_MS / 1000} s (a handle left open after shutdown?)`;
  } else if (result.error) problem = result.error.message;
  else if (result.status !== 0) problem = `exit ${result.status ?? result.signal}`;
  return { problem, output };
}

function indent(text) {
  return text.split("\n").map((line) => `    ${line}`).join("\n");
}

if (!existsSync(join(packageDir, "package.json"))) die("npm/ is not built: run `npm run build`");

const temp = mkdtempSync(join(tmpdir(), "webfcgi-smoke-"));
const project = join(temp, "project");
mkdirSync(project);

const packed = run("npm", ["pack", "--json", "--pack-destination", temp], packageDir);
if (packed.problem) die(`npm pack: ${packed.problem}\n${indent(packed.output)}`);
let tarball;
try {
  const [info] = JSON.parse(packed.output.slice(packed.output.indexOf("[")));
  tarball = join(temp, info.filename);
  console.log(
    `npm smoke: packed ${info.id}: ${info.entryCount} files, ${info.size} bytes`,
  );
} catch (error) {
  die(`cannot read npm pack output (${error.message}):\n${indent(packed.output)}`);
}

writeFileSync(
  join(project, "package.json"),
  JSON.stringify({ name: "webfcgi-smoke", private: true, type: "module" }, null, 2),
);
const installed = run(
  "npm",
  ["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", tarball],
  project,
);
if (installed.problem) die(`npm install: ${installed.problem}\n${indent(installed.output)}`);
copyFileSync(join(root, "scripts", "npm_smoke_check.mjs"), join(project, "smoke.mjs"));
copyFileSync(join(root, "scripts", "npm_smoke_require.cjs"), join(project, "smoke_require.cjs"));

let failed = 0;
for (const name of runtimes) {
  const runtime = RUNTIMES[name];
  if (!runtime.present()) {
    console.log(`SKIP npm smoke on ${name}: ${runtime.command} not found`);
    continue;
  }
  let { problem, output } = run(runtime.command, runtime.args, project);
  for (const args of problem ? [] : runtime.also ?? []) {
    const step = run(runtime.command, args, project);
    problem = step.problem;
    output = [output, step.output].filter(Boolean).join("\n");
    if (problem) break;
  }
  if (problem) {
    failed++;
    console.log(
      `FAIL npm smoke on ${name}${
        onNode && name === "node" ? ` ${process.version}` : ""
      }: ${problem}`,
    );
  } else {
    console.log(
      `PASS npm smoke on ${name}${onNode && name === "node" ? ` ${process.version}` : ""}`,
    );
  }
  if (output) console.log(indent(output));
}

// Types, as a TypeScript consumer without @types/node sees them.
const tsc = bin("tsc");
if (runtimesOnly) {
  // the types and package steps are run elsewhere
} else if (!existsSync(tsc)) {
  console.log(`SKIP npm smoke types: ${tsc} not found`);
} else {
  const probe = run(nodeBin, [
    "--input-type=module",
    "-e",
    'const w = await import("@webfcgi/webfcgi"); console.log(typeof w.serveFastCGI)',
  ], project);
  const hasServer = probe.output === "function";
  const consumer = [
    'import { encodeRecord, FastCGIProtocolError, RecordDecoder, RecordType } from "@webfcgi/webfcgi";',
    'import type { FastCGIRecord } from "@webfcgi/webfcgi";',
    "const bytes: Uint8Array = encodeRecord(RecordType.STDOUT, 1, new Uint8Array(2));",
    "const seen: FastCGIRecord[] = [];",
    "new RecordDecoder().push(bytes, (record) => seen.push(record));",
    "export const error: Error = new FastCGIProtocolError('x', { context: 'smoke' });",
  ];
  if (hasServer) {
    consumer.push(
      'import { serveFastCGI } from "@webfcgi/webfcgi";',
      "const server = serveFastCGI(",
      "  { hostname: '127.0.0.1', port: 0, onListen() {} },",
      "  (request: Request, info) => new Response(`${request.url} ${info.role} ${info.requestId}`),",
      ");",
      "const { transport } = server.addr;",
      "export const checks: [string, Promise<void>, Promise<void>] = [transport, server.finished, server.shutdown()];",
      "export const simple = serveFastCGI(() => new Response('ok'));",
    );
  }
  writeFileSync(join(project, "consumer.ts"), consumer.join("\n") + "\n");
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: CONSUMER_LIB,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          types: [],
          strict: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ["consumer.ts"],
      },
      null,
      2,
    ),
  );
  const what = `types (tsc, lib ${CONSUMER_LIB.join("+")}, no @types/node` +
    `${hasServer ? "" : ", codec only: no serveFastCGI yet"})`;
  const { problem, output } = run(tsc, ["-p", "tsconfig.json", "--pretty", "false"], project);
  if (problem) {
    failed++;
    console.log(`FAIL npm smoke ${what}: ${problem}`);
  } else {
    console.log(`PASS npm smoke ${what}`);
  }
  if (output) console.log(indent(output));
}

// The package itself: publint, attw, and its manifest against deno.json.
for (
  const { name, problem, output } of runtimesOnly ? [] : lintPackage({
    root,
    packageDir,
    tarball,
    installedDir: join(project, "node_modules", "@webfcgi", "webfcgi"),
  })
) {
  if (problem) {
    failed++;
    console.log(`FAIL npm package ${name}: ${problem}`);
  } else {
    console.log(`PASS npm package ${name}`);
  }
  if (output) console.log(indent(output));
}

// The webfcgi bin: --help, serve examples/hello.ts, request, SIGTERM.
const app = writeHelloApp(root, project);
for (const name of runtimes) {
  if (!RUNTIMES[name].present()) continue;
  const { command, args } = binCommand(root, name);
  const { problem, output } = await cliSmoke({
    command,
    args,
    project,
    app,
    socketDir: temp,
    label: name,
    // The bin runs on the Node that runs this script.
    runtimeExe: name === "node" && onNode ? process.execPath : undefined,
  });
  if (problem) {
    failed++;
    console.log(`FAIL npm smoke bin on ${name}: ${problem}`);
  } else {
    console.log(`PASS npm smoke bin on ${name}`);
  }
  if (output) console.log(indent(output));
}

if (failed > 0 || keep) console.log(`npm smoke: temporary project kept in ${project}`);
else rmSync(temp, { recursive: true, force: true });
if (failed > 0) die(`${failed} step(s) failed`);
console.log(
  `npm smoke: PASS (${runtimes.join(", ")}${
    runtimesOnly ? "; types and package steps left out" : ""
  })`,
);
