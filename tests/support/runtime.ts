// How to run a repository script as a child process on the runtime that runs
// the tests: Deno and Bun run the .ts source; Node runs the tsc output in .build/.
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (tests/support/ is two levels below it, in source and in .build). */
const isBuild = here.split(path.sep).includes(".build");
export const repoRoot: string = isBuild
  ? path.resolve(here, "../../..")
  : path.resolve(here, "../..");

export const runtimeName: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The file to run for `relative` (a .ts path from the repo root) on this runtime. */
export function scriptPath(relative: string): string {
  if (runtimeName !== "node") return path.join(repoRoot, relative);
  const built = path.join(repoRoot, ".build", relative.replace(/\.ts$/, ".js"));
  if (!fs.existsSync(built)) throw new Error(`${built} is missing: run tsc first`);
  return built;
}

/** Command and arguments that run `relative` with `args` on this runtime. */
export function runtimeCommand(
  relative: string,
  args: string[] = [],
): { command: string; args: string[] } {
  const script = scriptPath(relative);
  if (runtimeName === "deno") {
    return { command: process.execPath, args: ["run", "-A", script, ...args] };
  }
  return { command: process.execPath, args: [script, ...args] };
}
