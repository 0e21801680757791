// Smoke test of the JSR package, offline.
//
//     node scripts/jsr_smoke.mjs [--keep]
//
// 1. `deno publish --dry-run --allow-dirty`: the JSR checks (slow types,
//    module graph, excluded modules) and the list of files JSR would get.
//    It works without network for a package with no dependencies.
// 2. Copies exactly those files into a temporary folder: the package as a
//    JSR user downloads it (JSR serves the .ts sources as published).
// 3. Runs its cli.ts as the `webfcgi` command under Deno (what
//    `deno run -A jsr:@webfcgi/webfcgi/cli` runs) and Bun (which runs the
//    same .ts files): --help, serve examples/hello.ts, request, SIGTERM
//    (scripts/npm_smoke_cli.mjs).
//
// Node consumes JSR packages through JSR's npm compatibility registry
// (npm.jsr.io builds its own .js), which this machine cannot reach: the npm
// package (scripts/npm_smoke.mjs) covers Node.

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cliSmoke } from "./npm_smoke_cli.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const keep = process.argv.includes("--keep");

function die(message) {
  console.error(`jsr smoke: FAIL: ${message}`);
  process.exit(1);
}

const indent = (text) => text.split("\n").map((line) => `    ${line}`).join("\n");

// 1. The dry run.
const dry = spawnSync(bin("deno"), ["publish", "--dry-run", "--allow-dirty"], {
  cwd: root,
  encoding: "utf8",
  timeout: 120_000,
  env: { ...process.env, NO_COLOR: "1" },
});
const dryOutput = `${dry.stdout ?? ""}${dry.stderr ?? ""}`;
if (dry.status !== 0) die(`deno publish --dry-run: exit ${dry.status}\n${indent(dryOutput)}`);
const rootUrl = pathToFileURL(root).href + "/";
const files = [...dryOutput.matchAll(/^\s+(file:\/\/\S+)/gm)]
  .map((m) => m[1])
  .filter((url) => url.startsWith(rootUrl))
  .map((url) => relative(root, fileURLToPath(url)));
if (files.length === 0) die(`no file list in the dry run's output:\n${indent(dryOutput)}`);
const warnings = [...dryOutput.matchAll(/^warning\[([\w-]+)\]/gm)].map((m) => m[1]);
console.log(
  `PASS jsr deno publish --dry-run: ${files.length} files` +
    (warnings.length ? `; warnings: ${warnings.join(", ")}` : ""),
);

const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const exportsMap = typeof deno.exports === "string" ? { ".": deno.exports } : deno.exports;
const wanted = [...Object.values(exportsMap).map((p) => p.slice(2)), "README.md", "LICENSE"];
const missing = wanted.filter((file) => !files.includes(file));
const stray = files.filter((file) =>
  /^(tests|scripts|examples|npm|\.build)\//.test(file.split(sep).join("/"))
);
if (missing.length > 0) die(`the JSR package lacks ${missing.join(", ")}`);
if (stray.length > 0) die(`the JSR package would ship ${stray.join(", ")}`);
console.log(`PASS jsr package files: the entry points, README.md and LICENSE; no tests or scripts`);

// 2. The package as published.
const temp = mkdtempSync(join(tmpdir(), "webfcgi-jsr-"));
const pkg = join(temp, "jsr");
const project = join(temp, "project");
mkdirSync(project);
for (const file of files) {
  mkdirSync(dirname(join(pkg, file)), { recursive: true });
  copyFileSync(join(root, file), join(pkg, file));
}
copyFileSync(join(root, "examples", "hello.ts"), join(project, "hello.ts"));

// 3. Its CLI under Deno and Bun.
const runners = {
  deno: { command: bin("deno"), args: ["run", "-A", join(pkg, "cli.ts")] },
  bun: { command: bin("bun"), args: [join(pkg, "cli.ts")] },
};
let failed = 0;
for (const [name, { command, args }] of Object.entries(runners)) {
  if (!existsSync(command)) {
    console.log(`SKIP jsr cli on ${name}: ${command} not found`);
    continue;
  }
  const { problem, output } = await cliSmoke({
    command,
    args,
    project,
    app: "hello.ts",
    socketDir: temp,
    label: name,
  });
  if (problem) {
    failed++;
    console.log(`FAIL jsr cli on ${name}: ${problem}`);
  } else {
    console.log(`PASS jsr cli on ${name}`);
  }
  console.log(indent(output));
}

if (failed > 0 || keep) console.log(`jsr smoke: temporary folder kept in ${temp}`);
else rmSync(temp, { recursive: true, force: true });
if (failed > 0) die(`${failed} step(s) failed`);
console.log("jsr smoke: PASS (deno, bun)");
