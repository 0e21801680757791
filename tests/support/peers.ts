// Real peers (Debian programs) for tests. Where one is missing, a test skips
// and says why; under CI (WEBFCGI_REQUIRE_PEERS=1, set by .ci/run) a missing
// peer is a failure, never a silent skip.
import { execFileSync } from "node:child_process";
import process from "node:process";

/** The absolute path of `program`, or null when it is not installed. */
export function findProgram(program: string): string | null {
  for (
    const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/local/sbin"]
  ) {
    if (dir === "") continue;
    try {
      execFileSync("test", ["-x", `${dir}/${program}`]);
      return `${dir}/${program}`;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The path of a peer the test needs. Returns null (and the caller skips
 * with the returned reason) when missing outside CI; throws in CI.
 */
export function requirePeer(program: string, pkg: string): { path: string | null; why: string } {
  const path = findProgram(program);
  const why = `${program} is not installed (apt-get install ${pkg})`;
  if (path === null && process.env.WEBFCGI_REQUIRE_PEERS === "1") throw new Error(why);
  return { path, why };
}
