// Which runtime runs the tests, and how to start the interop app as a
// separate process on that same runtime (for web servers that spawn it).
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

export type RuntimeName = "deno" | "bun" | "node";

/** The runtime executing this code. */
export function runtimeName(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno !== undefined) return "deno";
  if (g.Bun !== undefined) return "bun";
  return "node";
}

/** "deno 2.9.6" and the like, for the report. */
export function runtimeVersion(): string {
  const versions = process.versions as Record<string, string | undefined>;
  const name = runtimeName();
  return `${name} ${versions[name] ?? process.version}`;
}

/** The repository root: the nearest directory above this file holding deno.json. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, "deno.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/**
 * argv that runs tests/interop/support/spawn_app on the current runtime:
 * Node runs the tsc output next to this file (.build/...), Deno `run -A`
 * the .ts, Bun the .ts directly.
 */
export function spawnAppArgv(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const js = path.join(here, "spawn_app.js");
  const ts = path.join(here, "spawn_app.ts");
  const script = fs.existsSync(js) ? js : ts;
  const exe = process.execPath;
  switch (runtimeName()) {
    case "deno":
      return [exe, "run", "-A", "--quiet", script];
    case "bun":
      return [exe, script];
    default:
      return [exe, script];
  }
}

/** A POSIX shell command line for argv (for configs that take one string). */
export function shellQuote(argv: string[]): string {
  return argv.map((arg) => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}
