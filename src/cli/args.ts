/** A parsed command line: positionals, and flags with their values in order. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

/**
 * Error in how the command was called: printed with the usage, exit code 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "@webfcgi/webfcgi/cli";
 * console.log(new UsageError("missing URL").name); // UsageError
 * ```
 */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @param message what is wrong with the command line
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses `args` given which flags take a value (`valued`) and which do not
 * (`switches`). Accepts `--flag value`, `--flag=value` and `-X value`.
 */
export function parseArgs(
  args: readonly string[],
  valued: readonly string[],
  switches: readonly string[],
): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const list = flags.get(name);
    if (list === undefined) flags.set(name, [value]);
    else list.push(value);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (switches.includes(name)) {
      add(name, "");
      continue;
    }
    if (!valued.includes(name)) throw new UsageError(`unknown option ${name}`);
    if (arg.startsWith("--") && eq > 0) add(name, arg.slice(eq + 1));
    else {
      if (i + 1 >= args.length) throw new UsageError(`${name} needs a value`);
      add(name, args[++i]);
    }
  }
  return { positionals, flags };
}

/**
 * An address from the command line: `unix:/path`, `host:port`, `[::1]:port`, `fd:N`, or a path.
 *
 * @example
 * ```ts
 * import type { CliAddress } from "@webfcgi/webfcgi/cli";
 * const where: CliAddress = { path: "/run/app.sock" };
 * console.log("path" in where); // true
 * ```
 */
export type CliAddress =
  | { path: string }
  | { hostname: string; port: number }
  | { fd: number };

/**
 * Parses `unix:/path`, `/path`, `host:port`, `[v6]:port`, `:port` or `fd:N`.
 *
 * @throws {UsageError} when it is none of them.
 *
 * @example
 * ```ts
 * import { parseAddress } from "@webfcgi/webfcgi/cli";
 * console.log(parseAddress("unix:/run/app.sock")); // { path: "/run/app.sock" }
 * console.log(parseAddress("[::1]:9000")); // { hostname: "::1", port: 9000 }
 * ```
 */
export function parseAddress(text: string): CliAddress {
  if (text.startsWith("unix:")) return { path: text.slice(5) };
  if (text.startsWith("fd:")) {
    const fd = Number(text.slice(3));
    if (!Number.isInteger(fd) || fd < 0) throw new UsageError(`bad descriptor in ${text}`);
    return { fd };
  }
  if (text.startsWith("/") || text.startsWith(".")) return { path: text };
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (match === null) throw new UsageError(`not an address: ${text} (unix:/path, host:port, fd:0)`);
  const port = Number(match[3]);
  if (port > 65535) throw new UsageError(`bad port in ${text}`);
  return { hostname: match[1] ?? (match[2] || "127.0.0.1"), port };
}
