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

/**
 * A peer built by a script from a seed tarball (a server Debian does not
 * package). Missing outside CI: skip with how to build it. Missing in CI:
 * a failure only when the tarball is there (.ci/run should then have built
 * it); without the tarball it cannot be built, so it skips even in CI.
 */
export function requireBuiltPeer(peer: {
  /** Where the build installs the binary. */
  binary: string;
  /** The seed tarball, or null when none of the places it is looked for has it. */
  tarball: string | null;
  /** What is looked for, e.g. "hiawatha-10.9.tar.gz in $WEBFCGI_SEED_SERVERS, ...". */
  tarballWhere: string;
  /** The command that builds it. */
  build: string;
}): { path: string | null; why: string } {
  try {
    execFileSync("test", ["-x", peer.binary]);
    return { path: peer.binary, why: "" };
  } catch {
    // not built
  }
  if (peer.tarball === null) {
    return { path: null, why: `cannot build: no ${peer.tarballWhere}` };
  }
  const why = `${peer.binary} is not built (run: ${peer.build})`;
  if (process.env.WEBFCGI_REQUIRE_PEERS === "1") throw new Error(why);
  return { path: null, why };
}
