import process from "node:process";
import { UsageError } from "./args.ts";
import { dev } from "./dev.ts";
import { request } from "./request.ts";
import { serve } from "./serve.ts";

const USAGE = `webfcgi: a web-standard FastCGI runtime

Usage:
  webfcgi serve APP [--listen unix:/path | host:port | fd:0] [--workers N]
      Serve a module whose default export is { fetch } (or a handler function).
      Default address: fd 0 when it is a listening socket, else 127.0.0.1:9000.
      --workers N runs N processes that share the socket (Node and Bun).
  webfcgi request ADDRESS URL [-X METHOD] [-H 'Name: value'] [-d DATA | -d @file]
                 [--param NAME=VALUE] [-i]
      One request to any FastCGI server (PHP-FPM, an app); the body on stdout,
      with -i the status line and headers first. ADDRESS: unix:/path or host:port.
  webfcgi dev APP [--port 8080] [--hostname 127.0.0.1]
      The app over FastCGI plus a small HTTP front, for local work.
  webfcgi help
`;

/** The usage lines of one command. */
function helpFor(command: string): string {
  const lines = USAGE.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`  webfcgi ${command} `));
  if (start < 0) return USAGE;
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith("    ")) end++;
  return `Usage:\n${lines.slice(start, end).join("\n")}\n`;
}

/** Commands by name; each returns an exit code. */
const COMMANDS: Record<string, (args: readonly string[]) => Promise<number>> = {
  serve,
  request,
  dev,
};

/**
 * Runs the `webfcgi` command with `args` (without the program name) and
 * returns its exit code: 0 on success, 1 on failure, 2 on a usage error.
 *
 * @example
 * ```ts
 * import { main } from "@webfcgi/webfcgi/cli";
 * const code = await main(["help"]);
 * console.log(code); // 0
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (run !== undefined && (rest.includes("--help") || rest.includes("-h"))) {
    process.stdout.write(helpFor(command));
    return 0;
  }
  try {
    if (run === undefined) throw new UsageError(`unknown command ${command}`);
    return await run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`webfcgi: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    // The server's own errors already say where they come from.
    process.stderr.write(`${message.startsWith("webfcgi: ") ? "" : "webfcgi: "}${message}\n`);
    return 1;
  }
}

export { COMMANDS, USAGE };
