// Apache httpd 2.4 (Debian package `apache2`) for the interop suite: writes a
// minimal httpd.conf into a temp dir (no /etc/apache2, no apache2ctl; every
// module loaded explicitly), starts `apache2 -DFOREGROUND` by pid and stops it
// by pid. Shared by apache.ts (mod_proxy_fcgi, mod_fcgid) and other Apache
// variants (mod_authnz_fcgi).
//
// Root: httpd refuses `User root` ("Apache has not been designed to serve
// pages while running as root") and, without a User line, its children die
// (uid 4294967295). So as root the parent binds and logs as root and the
// children run as www-data (or nobody): the temp dir is made traversable and
// Unix sockets the children connect to are made writable (`shareWithApache`).
import * as fs from "node:fs";
import * as path from "node:path";
import { ManagedProcess } from "../process.ts";
import { debianVersion, isRoot, programPath, versionLine, whenListening } from "./common.ts";
import type { RunningServer } from "./types.ts";

/** Where Debian's apache2 package keeps its modules. */
export const APACHE_MODULES = "/usr/lib/apache2/modules";

/** "2.4.71-1~deb12u1 (Debian apache2)" or the `apache2 -v` version. */
export function apacheVersion(): string {
  return debianVersion(
    "apache2",
    () => versionLine("apache2", ["-v"], /Apache\/([\d.]+)/),
  );
}

/** The unprivileged account httpd's children run as when the tests run as root. */
export interface ApacheUser {
  user: string;
  group: string;
  uid: number;
  gid: number;
}

function lookup(file: string, name: string): string[] | null {
  try {
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      const fields = line.split(":");
      if (fields[0] === name) return fields;
    }
  } catch { /* no such file */ }
  return null;
}

/** www-data (or nobody) when running as root, else null (httpd then keeps the caller's uid). */
export function apacheUser(): ApacheUser | null {
  if (!isRoot()) return null;
  for (const name of ["www-data", "nobody"]) {
    const pw = lookup("/etc/passwd", name);
    if (pw === null) continue;
    const gid = Number(pw[3]);
    const group = fs.readFileSync("/etc/group", "utf8").split("\n")
      .map((line) => line.split(":"))
      .find((fields) => Number(fields[2]) === gid)?.[0] ?? String(gid);
    return { user: name, group, uid: Number(pw[2]), gid };
  }
  throw new Error("running as root, but neither www-data nor nobody exists for httpd's User");
}

/**
 * Lets httpd's children (www-data when root) reach `target`: directories get
 * o+x (traverse only), Unix sockets o+rw (connect needs write). No-op when
 * not root (everything runs as the caller).
 */
export function shareWithApache(target: string): void {
  if (apacheUser() === null) return;
  const stat = fs.statSync(target);
  if (stat.isSocket()) fs.chmodSync(target, 0o666);
  else if (stat.isDirectory()) fs.chmodSync(target, (stat.mode & 0o777) | 0o711);
}

/** A directory in `dir` owned by httpd's children's user (for what they or spawned apps write). */
export function apacheWritableDir(dir: string, name: string): string {
  const sub = path.join(dir, name);
  fs.mkdirSync(sub, { recursive: true });
  const user = apacheUser();
  if (user !== null) fs.chownSync(sub, user.uid, user.gid);
  return sub;
}

export interface ApacheConfOptions {
  /** The temp dir: ServerRoot, pid, error log, runtime dir and mutexes go here. */
  dir: string;
  /** HTTP port on 127.0.0.1. */
  port: number;
  /**
   * Modules to load besides mpm_event, authz_core and mime, by short name
   * ("proxy", "proxy_fcgi", "fcgid", "authnz_fcgi", "auth_basic", ...):
   * loads `mod_<name>.so` as `<name>_module`.
   */
  modules?: string[];
  /** Directives appended after the base config (ProxyPass, <Location>, ...). */
  directives: string;
  /** LogLevel (default "warn"). */
  logLevel?: string;
}

/**
 * Writes `<dir>/httpd.conf`: one event-MPM child with 128 threads (fast to
 * start, one connection pool), 127.0.0.1:<port>, everything in `dir`, `User`
 * and `Group` when root. Returns the path of the file.
 */
export function writeApacheConf(options: ApacheConfOptions): string {
  const { dir, port } = options;
  const run = path.join(dir, "run");
  fs.mkdirSync(run, { recursive: true });
  fs.mkdirSync(path.join(dir, "htdocs"), { recursive: true });
  const user = apacheUser();
  if (user !== null) {
    shareWithApache(dir);
    shareWithApache(run);
    shareWithApache(path.join(dir, "htdocs"));
  }
  const modules = ["mpm_event", "authz_core", "mime", ...(options.modules ?? [])];
  const load = [...new Set(modules)].map((name) =>
    `LoadModule ${name}_module ${APACHE_MODULES}/mod_${name}.so`
  ).join("\n");
  const conf = `# written by tests/interop/support/servers/apache_conf.ts
ServerRoot ${dir}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${dir}/httpd.pid
DefaultRuntimeDir ${run}
Mutex file:${run} default
ErrorLog ${dir}/error.log
LogLevel ${options.logLevel ?? "warn"}
DocumentRoot ${dir}/htdocs
${load}
${user === null ? "" : `User ${user.user}\nGroup ${user.group}\n`}
StartServers 1
ServerLimit 1
ThreadLimit 128
ThreadsPerChild 128
MaxRequestWorkers 128
MinSpareThreads 1
MaxSpareThreads 128
TypesConfig /etc/mime.types
${options.directives}
`;
  const confPath = path.join(dir, "httpd.conf");
  fs.writeFileSync(confPath, conf);
  return confPath;
}

/**
 * Starts `apache2 -d dir -f conf -DFOREGROUND` (its own process group, stopped
 * by pid with SIGTERM) and resolves once it listens on `port`.
 */
export async function startApache(
  options: { name: string; variant: string; dir: string; port: number; confPath: string },
): Promise<RunningServer> {
  const { name, variant, dir, port, confPath } = options;
  const proc = new ManagedProcess({
    name: `${name} ${variant}`,
    argv: [programPath("apache2"), "-d", dir, "-f", confPath, "-DFOREGROUND"],
    cwd: dir,
    logFiles: [confPath, path.join(dir, "error.log")],
  });
  await whenListening(proc, { port });
  return { name, variant, port, stop: () => proc.stop("SIGTERM"), log: () => proc.log() };
}
