// Binding a Unix socket path safely, whatever the runtime's socket API:
// stale files are replaced, live sockets and other files are not, and no
// name of the socket is ever reachable with wider permissions than `mode`.
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { Buffer } from "node:buffer";
import process from "node:process";
import {
  type ConnectProbe,
  netProbe,
  type ProbeResult,
  probeSocket,
  socketState,
} from "./socket_probe.ts";

/** Permissions of a Unix socket file when no `mode` is given: owner and group read/write, as PHP-FPM's listen.mode. */
export const DEFAULT_SOCKET_MODE = 0o660;

/** Longest Unix socket path we bind (sun_path holds 108 bytes on Linux, 104 on macOS). */
export const MAX_SOCKET_PATH = 100;

/**
 * Which file a path named when we created it.
 *
 * @example
 * ```ts
 * const id: FileId = { path: "/run/app.sock", dev: 64769, ino: 1234 };
 * ```
 */
export interface FileId {
  /** The path. */
  path: string;
  /** Device of the file. */
  dev: number;
  /** Inode of the file. */
  ino: number;
}

/**
 * The identity of the file at `path` now (not following a symlink), or null.
 *
 * @example
 * ```ts
 * const id = fileId("/run/app.sock"); // null when nothing is there
 * ```
 */
export function fileId(path: string): FileId | null {
  try {
    const stat = fs.lstatSync(path);
    return { path, dev: stat.dev, ino: stat.ino };
  } catch {
    return null;
  }
}

/** True when `a` and `b` are the same file (neither null). */
export function sameFile(a: FileId | null, b: FileId | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}

/**
 * A Unix socket path we will not bind: it is in use, or we cannot bind it
 * safely. `code` is "EADDRINUSE" (a live socket, a socket that does not
 * answer in time, or a file that is not a socket), "EACCES" (a socket this
 * process may not connect to, which may be in use) or "ENAMETOOLONG" (no
 * room for the private name the socket is bound under first).
 *
 * @example
 * ```ts
 * try {
 *   throw new UnixSocketError("EADDRINUSE", "/run/app.sock", "EAGAIN");
 * } catch (error) {
 *   if (error instanceof UnixSocketError) console.log(error.code, error.probe);
 * }
 * ```
 */
export class UnixSocketError extends Error {
  /** Why: "EADDRINUSE", "EACCES" or "ENAMETOOLONG". */
  readonly code: "EADDRINUSE" | "EACCES" | "ENAMETOOLONG";
  /** The path. */
  readonly path: string;
  /** What connecting to the socket there found, or null when it was not probed. */
  readonly probe: ProbeResult | null;

  /**
   * Creates the error.
   *
   * @param code why the path is refused
   * @param path the socket path
   * @param probe what connecting found, null when not probed
   * @param detail replaces the standard explanation
   */
  constructor(
    code: "EADDRINUSE" | "EACCES" | "ENAMETOOLONG",
    path: string,
    probe: ProbeResult | null = null,
    detail?: string,
  ) {
    const why = detail ??
      (code === "EACCES"
        ? `${path} is a socket this process may not connect to, so it may be in use; not replacing it`
        : code === "EADDRINUSE"
        ? `address already in use ${path}${probe === null ? "" : ` (connect: ${probe})`}`
        : `no room for a private temporary name next to ${path}`);
    super(`listen ${code}: ${why}`);
    this.name = "UnixSocketError";
    this.code = code;
    this.path = path;
    this.probe = probe;
  }
}

/**
 * Checks what is at `path` before we bind there: nothing (null), or a stale
 * socket file we may replace (its identity). Anything else throws.
 */
export async function replaceable(
  path: string,
  probe: ConnectProbe,
): Promise<StaleFile | null> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return null;
    throw error;
  }
  if (!stat.isSocket()) throw new UnixSocketError("EADDRINUSE", path);
  const found = await probeSocket(path, probe);
  const state = socketState(found);
  if (state === "denied") throw new UnixSocketError("EACCES", path, found);
  if (state === "live") throw new UnixSocketError("EADDRINUSE", path, found);
  const stale = { path, dev: stat.dev, ino: stat.ino, ctimeMs: stat.ctimeMs };
  if (fileId(path) === null) return null;
  // The file we probed, not one put there since.
  if (!stillStale(stale)) throw new UnixSocketError("EADDRINUSE", path);
  return stale;
}

/** A socket file judged stale: its identity, and when its inode last changed. */
export interface StaleFile extends FileId {
  ctimeMs: number;
}

/**
 * True while `stale` is still the file at its path: the same socket inode,
 * unchanged (a new file may get a freed inode number, not its ctime).
 */
function stillStale(stale: StaleFile): boolean {
  const now = fs.lstatSync(stale.path, { throwIfNoEntry: false });
  return now !== undefined && now.isSocket() && now.dev === stale.dev && now.ino === stale.ino &&
    now.ctimeMs === stale.ctimeMs;
}

/**
 * Gives the socket bound at `temporary` the name `path`: where there is
 * nothing, by a link, which fails rather than replace what may have
 * appeared since; over `stale` (the file judged stale, checked again right
 * before), by a rename. Anything else at `path` is "address in use".
 */
export function place(temporary: string, path: string, stale: StaleFile | null): void {
  if (fileId(path) !== null) {
    if (stale === null || !stillStale(stale)) throw new UnixSocketError("EADDRINUSE", path);
    fs.renameSync(temporary, path);
    return;
  }
  try {
    fs.linkSync(temporary, path);
  } catch (error) {
    if ((error as { code?: unknown }).code === "EEXIST") {
      throw new UnixSocketError("EADDRINUSE", path);
    }
    throw error;
  }
  fs.unlinkSync(temporary);
}

/** Removes a directory we created, if it is empty; anything else stays. */
export function removeDir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // not empty (a sibling's socket), or already gone
  }
}

/**
 * Makes the file bound by `bind(path)` right now come into existence with
 * no more than `mode`: a umask for the duration of the call. The runtimes
 * bind synchronously inside their listen call (node:net and Deno's and
 * Bun's), so the umask is set back before anything else runs in this thread.
 */
function bindMasked(
  path: string,
  mode: number,
  bind: (name: string) => Promise<void>,
): Promise<void> {
  let previous: number;
  try {
    previous = process.umask(0o777 & ~mode);
    process.umask(previous | (0o777 & ~mode));
  } catch (error) {
    throw new UnixSocketError(
      "ENAMETOOLONG",
      path,
      null,
      `no room for a private temporary name next to ${path}, and process.umask() ` +
        `is unavailable here to bind it in place safely (${
          (error as Error).message
        }); use a shorter path`,
    );
  }
  try {
    return bind(path);
  } finally {
    process.umask(previous);
  }
}

/**
 * Removes the socket file of a closing server, only while it is still that
 * server's: a newer server may have bound the same path since (a restart, a
 * deploy).
 *
 * @example
 * ```ts
 * removeIfOurs(fileId("/run/app.sock"));
 * ```
 */
export function removeIfOurs(mine: FileId | null): void {
  if (mine === null || !sameFile(fileId(mine.path), mine)) return;
  try {
    fs.unlinkSync(mine.path);
  } catch {
    // already gone
  }
}

/**
 * Binds a Unix socket at `path` with permissions `mode`, through `bind`
 * (the runtime's listen on a given name; it must bind before it returns)
 * and `unbind` (its close).
 *
 * Nothing but a stale socket file (one where connecting is refused) is
 * replaced: a live socket, one that does not answer within 2 s
 * (PROBE_TIMEOUT_MS), or any other file is "address in use", a socket
 * we may not connect to is EACCES. The socket is bound inside a fresh
 * directory next to `path` that only this user may enter, given its mode,
 * and then linked (or, over a stale file, renamed) into place: no name of
 * it is reachable with looser permissions, whatever the umask, and the name
 * the runtime removes when it closes the server (libuv, Deno and Bun unlink
 * the name they bound) is the temporary one. When the temporary name would
 * not fit in sun_path, the socket is bound in place under a umask that
 * leaves no more than `mode`. Returns the file to remove on close (see
 * {@link removeIfOurs}), or null when the runtime removes it.
 *
 * @example
 * ```ts
 * import * as fs from "node:fs";
 * import * as net from "node:net";
 * import * as os from "node:os";
 * import * as path from "node:path";
 * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "app-")), "app.sock");
 * const server = net.createServer();
 * const mine = await bindUnix(
 *   file,
 *   0o660,
 *   (name) => new Promise((resolve) => server.listen({ path: name }, resolve)),
 *   () => new Promise((resolve) => server.close(() => resolve())),
 * );
 * removeIfOurs(mine); // on close
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export async function bindUnix(
  path: string,
  mode: number,
  bind: (name: string) => Promise<void>,
  unbind: () => Promise<void>,
  probe: ConnectProbe = netProbe,
): Promise<FileId | null> {
  const stale = await replaceable(path, probe);
  const parent = nodePath.dirname(path);
  const prefix = nodePath.join(parent, ".webfcgi-");
  // mkdtemp adds six characters; the socket inside is "s".
  if (Buffer.byteLength(prefix) + 6 + 2 > MAX_SOCKET_PATH) {
    if (fileId(path) !== null) {
      if (stale === null || !stillStale(stale)) throw new UnixSocketError("EADDRINUSE", path);
      fs.unlinkSync(path);
    }
    await bindMasked(path, mode, bind);
    try {
      fs.chmodSync(path, mode);
    } catch (error) {
      await unbind();
      throw error;
    }
    return null;
  }
  const dir = fs.mkdtempSync(prefix);
  const temporary = nodePath.join(dir, "s");
  try {
    // mkdtemp makes it 0700 less the umask; the owner needs all three bits.
    fs.chmodSync(dir, 0o700);
    await bind(temporary);
    try {
      fs.chmodSync(temporary, mode);
      place(temporary, path, stale);
    } catch (error) {
      await unbind();
      fs.rmSync(temporary, { force: true });
      throw error;
    }
  } finally {
    removeDir(dir);
  }
  return fileId(path);
}
