// Helpers shared by the server modules.
import { spawnSync } from "node:child_process";
import process from "node:process";
import { findProgram } from "../../../support/peers.ts";
import type { ManagedProcess } from "../process.ts";
import type { SocketAddr } from "../tap.ts";

/** True when running as root (CI): servers must then be told not to drop privileges. */
export function isRoot(): boolean {
  return typeof process.geteuid === "function" && process.geteuid() === 0;
}

/** The absolute path of `program`, or the bare name (so the spawn fails with a clear log). */
export function programPath(program: string): string {
  return findProgram(program) ?? program;
}

/** First line of `program args` (stdout or stderr), for version strings. */
export function versionLine(program: string, args: string[], pattern?: RegExp): string {
  const result = spawnSync(programPath(program), args, { encoding: "utf8" });
  const text = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const match = pattern ? pattern.exec(text) : null;
  return (match ? match[1] ?? match[0] : text.split("\n")[0]).trim() ||
    `${program} (unknown version)`;
}

/** "127.0.0.1:9000" or "unix:/path" in nginx's spelling. */
export function nginxAddr(addr: SocketAddr): string {
  return "path" in addr ? `unix:${addr.path}` : `${addr.host ?? "127.0.0.1"}:${addr.port}`;
}

/** An error that carries the log of what failed to start (printed by the suite's "starts" test). */
export class StartError extends Error {
  constructor(message: string, readonly log: string) {
    super(message);
    this.name = "StartError";
  }
}

/**
 * Waits until `proc` listens on `target`; if it does not, stops it (by pid)
 * and throws a StartError with its log.
 */
export async function whenListening(
  proc: ManagedProcess,
  target: { port: number; host?: string } | { path: string },
  ms = 15000,
): Promise<void> {
  try {
    await proc.waitForListen(target, ms);
  } catch (error) {
    await proc.stop();
    throw new StartError((error as Error).message, proc.log());
  }
}

/** "1.22.1-9+deb12u11": the installed Debian package version, or `fallback()`. */
export function debianVersion(pkg: string, fallback: () => string): string {
  const result = spawnSync("dpkg-query", ["-W", "-f", "${Version}", pkg], { encoding: "utf8" });
  const version = (result.stdout ?? "").trim();
  return result.status === 0 && version !== "" ? `${version} (Debian ${pkg})` : fallback();
}
