// The process's file descriptor limit (RLIMIT_NOFILE, soft), read where it
// can be read without dependencies: /proc/self/limits on Linux. None of the
// three runtimes exposes getrlimit; elsewhere the answer is "unknown".
import * as fs from "node:fs";

/** The few Deno members used here (no Deno types in the tsc build). */
interface DenoPermissions {
  permissions?: {
    querySync?(descriptor: { name: "read"; path: string }): { state: string };
  };
}

const LIMITS_FILE = "/proc/self/limits";

/** Parses the "Max open files" soft limit out of /proc/<pid>/limits text. */
export function parseFdLimit(text: string): number | undefined {
  const match = /^Max open files\s+(\S+)/m.exec(text);
  if (match === null) return undefined;
  if (match[1] === "unlimited") return Infinity;
  const value = Number(match[1]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The soft limit on open file descriptors, or undefined when it cannot be
 * read: not Linux, or Deno without --allow-all (Deno guards /proc beyond
 * --allow-read). Deno's permission is queried first, so nobody is prompted.
 */
export function fdLimit(): number | undefined {
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
  try {
    if (
      deno !== undefined &&
      deno.permissions?.querySync?.({ name: "read", path: LIMITS_FILE }).state !== "granted"
    ) {
      return undefined;
    }
    return parseFdLimit(fs.readFileSync(LIMITS_FILE, "utf8"));
  } catch {
    return undefined;
  }
}
