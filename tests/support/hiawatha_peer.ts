// Where Hiawatha (a test peer built from its seed tarball, not a Debian
// package) lives: the same paths scripts/peers/build_hiawatha.sh uses.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { requireBuiltPeer } from "./peers.ts";

export const HIAWATHA_VERSION = "10.9";
const TARBALL = `hiawatha-${HIAWATHA_VERSION}.tar.gz`;
export const HIAWATHA_BUILD = "bash scripts/peers/build_hiawatha.sh";

/** The nearest directory above this file holding deno.json (also from .build/ under Node). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 20; i++) {
    if (fs.existsSync(path.join(dir, "deno.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return process.cwd();
}

/** The install prefix: `${XDG_CACHE_HOME:-$HOME/.cache}/webfcgi/hiawatha-10.9`. */
export function hiawathaPrefix(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || os.homedir(), ".cache");
  return path.join(cache, "webfcgi", `hiawatha-${HIAWATHA_VERSION}`);
}

/** The binary the build installs (it may not exist). */
export function hiawathaBinary(): string {
  return path.join(hiawathaPrefix(), "sbin", "hiawatha");
}

/** Where the seed tarball is looked for: $WEBFCGI_SEED_SERVERS alone when set. */
function seedDirs(): string[] {
  const env = process.env.WEBFCGI_SEED_SERVERS;
  if (env) return [env];
  return [path.join(repoRoot(), "..", "shared", "seed-servers"), "/work/shared/seed-servers"];
}

/** The seed tarball, or null when none of seedDirs() has it. */
export function hiawathaTarball(): string | null {
  for (const dir of seedDirs()) {
    if (fs.existsSync(path.join(dir, TARBALL))) return path.join(dir, TARBALL);
  }
  return null;
}

/** The built binary, or null and why (throws in CI when it could have been built). */
export function requireHiawatha(): { path: string | null; why: string } {
  return requireBuiltPeer({
    binary: hiawathaBinary(),
    tarball: hiawathaTarball(),
    tarballWhere: `${TARBALL} in ${seedDirs().join(", ")} (set WEBFCGI_SEED_SERVERS)`,
    build: HIAWATHA_BUILD,
  });
}
