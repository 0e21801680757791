/**
 * Builds the npm package into `npm/` from scratch (the replacement for dnt).
 *
 *     deno run -A scripts/build_npm.ts      (or: bun scripts/build_npm.ts)
 *
 * 1. Compiles every module reachable from the `exports` of deno.json (mod.ts
 *    and what it imports under src/; never tests/) with the project's own
 *    TypeScript (node_modules/.bin/tsc) to ESM `.js` + `.d.ts` in `npm/esm/`.
 * 2. Rewrites the relative `.ts` specifiers that tsc leaves in `.d.ts` files
 *    to `.js` (older TypeScript consumers reject them).
 * 3. Writes `npm/package.json` from deno.json (scripts/npm_manifest.ts, so
 *    npm and JSR list the same entry points) and copies README.md, LICENSE
 *    and CHANGELOG.md.
 *
 * Flags: `--isolated-declarations` also runs tsc's isolatedDeclarations check.
 *
 * Exits non-zero on any tsc error or failed check. Uses only `node:` APIs, so
 * Deno, Bun and Node (with type stripping) can all run it.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  type DenoJson,
  emittedBase as emittedBaseOrThrow,
  ESM,
  exportsOf,
  npmManifest,
} from "./npm_manifest.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "npm");
/**
 * `--isolated-declarations` adds tsc's isolatedDeclarations check (explicit
 * types on every export, as JSR's slow-types rule wants). Off by default
 * until src/ passes it.
 */
const ISOLATED_DECLARATIONS = process.argv.includes("--isolated-declarations");

function fail(message: string): never {
  console.error(`build_npm: FAIL: ${message}`);
  process.exit(1);
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (error) {
    fail(`cannot read ${relative(ROOT, path)}: ${(error as Error).message}`);
  }
}

/** Every file under `dir`, as absolute paths. */
function walk(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walk(path));
    else files.push(path);
  }
  return files;
}

/** "./src/cli/main.ts" -> "./esm/src/cli/main" (no extension); fails the build otherwise. */
function emittedBase(source: string): string {
  try {
    return emittedBaseOrThrow(source);
  } catch (error) {
    fail((error as Error).message);
  }
}

/** Relative module specifiers ending in .ts/.mts/.cts (not .d.ts) in import/export positions. */
const TS_SPECIFIER =
  /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(["'])(\.{1,2}\/[^"'\n]*?)(?<!\.d)\.([mc]?)ts\2/g;

function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(
    TS_SPECIFIER,
    (_match, lead: string, quote: string, path: string, kind: string) =>
      `${lead}${quote}${path}.${kind}js${quote}`,
  );
}

// ---------------------------------------------------------------------------

const deno = readJson<DenoJson>(join(ROOT, "deno.json"));
if (!deno.name || !deno.version) fail("deno.json needs a name and a version");
const exportsMap: Record<string, string> = exportsOf(deno);
if (!exportsMap || Object.keys(exportsMap).length === 0) fail("deno.json has no exports");

const entryPoints = Object.values(exportsMap).map((source) => {
  emittedBase(source); // validates the shape
  const path = join(ROOT, source);
  if (!existsSync(path)) fail(`deno.json export ${source} does not exist`);
  return path;
});

console.log(`build_npm: ${deno.name}@${deno.version} -> ${relative(process.cwd(), OUT) || "."}/`);
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

// 1. Compile. The temporary tsconfig lists only the entry points: tsc follows
// their imports, so tests and scripts never enter the package.
const tsconfigPath = join(OUT, "tsconfig.build.json");
writeFileSync(
  tsconfigPath,
  JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        // Capped on purpose at what Node 22, the oldest supported line, has:
        // ES2024, the ES2025 Set methods and iterator helpers, Array.fromAsync;
        // not Promise.try, RegExp.escape, Float16Array (Node 24), so using
        // one fails the build instead of a Node 22 user (tsconfig.json has the same).
        lib: [
          "ES2024",
          "ES2025.Collection",
          "ES2025.Iterator",
          "ESNext.Array",
          "DOM",
          "DOM.Iterable",
        ],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        types: ["node"],
        strict: true,
        noImplicitOverride: true,
        noUnusedLocals: true,
        skipLibCheck: true,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
        isolatedDeclarations: ISOLATED_DECLARATIONS,
        declaration: true,
        noEmitOnError: true,
        newLine: "lf",
        rootDir: ROOT,
        outDir: join(OUT, ESM),
      },
      files: entryPoints,
    },
    null,
    2,
  ),
);
const isWindows = process.platform === "win32";
const tsc = join(ROOT, "node_modules", ".bin", isWindows ? "tsc.cmd" : "tsc");
if (!existsSync(tsc)) fail(`${relative(ROOT, tsc)} not found: run npm ci first`);
const compiled = spawnSync(tsc, ["-p", tsconfigPath, "--pretty", "false"], {
  cwd: ROOT,
  stdio: "inherit",
  shell: isWindows,
});
rmSync(tsconfigPath, { force: true });
if (compiled.error) fail(`cannot run tsc: ${compiled.error.message}`);
if (compiled.status !== 0) fail(`tsc exited with ${compiled.status ?? compiled.signal}`);

// 2. Fix up .d.ts specifiers and check the .js output.
const esmDir = join(OUT, ESM);
const emitted = walk(esmDir);
let rewritten = 0;
for (const file of emitted) {
  const text = readFileSync(file, "utf8");
  if (/\.d\.[mc]?ts$/.test(file)) {
    const fixed = rewriteDeclarationSpecifiers(text);
    if (fixed !== text) {
      writeFileSync(file, fixed);
      rewritten++;
    }
    if (/\/\/\/\s*<reference\s+types=["']node["']/.test(fixed)) {
      console.warn(
        `build_npm: WARNING: ${relative(OUT, file)} references @types/node, ` +
          "which the package does not depend on",
      );
    }
  } else if (/\.[mc]?js$/.test(file)) {
    const left = text.match(TS_SPECIFIER);
    if (left) fail(`${relative(OUT, file)} still imports ${left.join(", ")}`);
  }
}
for (const file of emitted) {
  if (!/\.d\.[mc]?ts$/.test(file)) continue;
  const left = readFileSync(file, "utf8").match(TS_SPECIFIER);
  if (left) fail(`${relative(OUT, file)} still references ${left.join(", ")}`);
}

// 3. package.json, README.md, LICENSE.
for (const source of Object.values(exportsMap)) {
  const base = emittedBase(source);
  for (const file of [`${base}.js`, `${base}.d.ts`]) {
    if (!existsSync(join(OUT, file))) fail(`export ${source}: ${file} was not emitted`);
  }
}

const extras = ["README.md", "LICENSE", "CHANGELOG.md"].filter((name) =>
  existsSync(join(ROOT, name))
);
for (const name of extras) copyFileSync(join(ROOT, name), join(OUT, name));
if (!extras.includes("LICENSE")) fail("LICENSE is missing");
if (!extras.includes("README.md")) console.warn("build_npm: WARNING: no README.md to copy");

const packageJson = npmManifest(deno, extras);
writeFileSync(join(OUT, "package.json"), JSON.stringify(packageJson, null, 2) + "\n");

const files = walk(OUT);
const bytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
console.log(
  `build_npm: ok: ${files.length} files, ${(bytes / 1024).toFixed(1)} KiB ` +
    `(${rewritten} .d.ts rewritten), exports ${Object.keys(exportsMap).join(", ")}`,
);
for (const file of files) console.log(`  ${relative(OUT, file).split(sep).join("/")}`);
