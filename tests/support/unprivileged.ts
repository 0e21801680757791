// Running a command as another user (nobody), for tests that need a real
// permission check: root passes every one of them.
import { spawnSync } from "node:child_process";
import process from "node:process";
import { which } from "../fixtures/spawn.ts";

/** uid and gid of nobody/nogroup on Debian (and most Linux systems). */
const NOBODY = "65534";

/**
 * The argv prefix that runs a command as nobody, or a reason why there is
 * none: only root can switch users, and only with setpriv installed.
 */
export function asNobody(): { prefix: string[] } | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: "not running as root: cannot switch to nobody" };
  const setpriv = which("setpriv");
  if (setpriv === null) return { reason: "setpriv is not installed (apt-get install util-linux)" };
  const prefix = [setpriv, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"];
  const probe = spawnSync(prefix[0], [...prefix.slice(1), "true"], { timeout: 10000 });
  if (probe.status !== 0) {
    return { reason: `setpriv to nobody does not work here: ${probe.stderr}` };
  }
  return { prefix };
}

/** A python3 that `user` (an argv prefix, [] for this user) can run, or null. */
export function pythonFor(user: string[]): string | null {
  const candidates = [which("python3"), "/usr/bin/python3"];
  for (const python of candidates) {
    if (python === null) continue;
    const argv = [...user, python, "-c", "pass"];
    const run = spawnSync(argv[0], argv.slice(1), { timeout: 10000 });
    if (run.status === 0) return python;
  }
  return null;
}
