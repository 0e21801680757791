// Binding a Unix socket path safely, whatever the runtime's socket API:
// stale files are replaced, live sockets and other files are not, and the
// path appears only once its permissions are set.
import * as fs from "node:fs";
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
const MAX_SOCKET_PATH = 100;

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
function sameFile(a: FileId | null, b: FileId | null): boolean {
  return a !== null && b !== null && a.dev === b.dev && a.ino === b.ino;
}

/**
 * A Unix socket path we will not bind: it is in use, or we cannot bind it
 * safely. `code` is "EADDRINUSE" (a live socket, a socket that does not
 * answer in time, or a file that is not a socket) or "EACCES" (a socket
 * this process may not connect to, which may be in use).
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
  /** Why: "EADDRINUSE" or "EACCES". */
  readonly code: "EADDRINUSE" | "EACCES";
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
    code: "EADDRINUSE" | "EACCES",
    path: string,
    probe: ProbeResult | null = null,
    detail?: string,
  ) {
    const why = detail ??
      (code === "EACCES"
        ? `${path} is a socket this process may not connect to, so it may be in use; not replacing it`
        : `address already in use ${path}${probe === null ? "" : ` (connect: ${probe})`}`);
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
async function replaceable(
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
interface StaleFile extends FileId {
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
 * (the runtime's listen on a given name) and `unbind` (its close).
 *
 * Nothing but a stale socket file (one where connecting is refused) is
 * replaced: a live socket, one that does not answer within 2 s
 * (PROBE_TIMEOUT_MS), or any other file is "address in use", a socket we
 * may not connect to is EACCES. The socket is bound under a temporary name
 * next to `path`, given its mode, and renamed into place, so `path` never
 * exists with looser permissions, and the name the runtime removes when it
 * closes the server (libuv, Deno and Bun unlink the name they bound) is the
 * temporary one. Returns the file to remove on close (see
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
  const temporary = `${path}.${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  if (Buffer.byteLength(temporary) <= MAX_SOCKET_PATH) {
    await bind(temporary);
    try {
      fs.chmodSync(temporary, mode);
      // Only the stale file we probed is replaced, nothing that appeared since.
      if (fileId(path) !== null && (stale === null || !stillStale(stale))) {
        throw new UnixSocketError("EADDRINUSE", path);
      }
      fs.renameSync(temporary, path);
    } catch (error) {
      await unbind();
      fs.rmSync(temporary, { force: true });
      throw error;
    }
    return fileId(path);
  }
  // No room for a temporary name: bind in place (the runtime removes `path` on close).
  if (fileId(path) !== null) {
    if (stale === null || !stillStale(stale)) throw new UnixSocketError("EADDRINUSE", path);
    fs.unlinkSync(path);
  }
  await bind(path);
  fs.chmodSync(path, mode);
  return null;
}
