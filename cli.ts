#!/usr/bin/env node
/**
 * The `webfcgi` command.
 *
 * ```sh
 * webfcgi serve app.ts --listen unix:/run/app.sock
 * deno run -A jsr:@webfcgi/webfcgi/cli serve app.ts
 * ```
 *
 * @example
 * ```ts
 * import { main } from "@webfcgi/webfcgi/cli";
 * const exitCode = await main(["help"]);
 * ```
 * @module
 */
import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { main } from "./src/cli/main.ts";

export { main } from "./src/cli/main.ts";
export { type CliAddress, parseAddress, UsageError } from "./src/cli/args.ts";

function isEntryPoint(): boolean {
  const flag = (import.meta as unknown as { main?: boolean }).main;
  if (flag !== undefined) return flag; // Deno and Bun know
  try {
    // Node before 22.18 does not: compare with the script it was started with (npm's bin is a symlink).
    return process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2));
