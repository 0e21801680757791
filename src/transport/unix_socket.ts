// Binding a Unix socket path safely, whatever the runtime's socket API:
// stale files are replaced, live sockets and other files are not, and the
// path appears only once its permissions are set.
import * as fs from "node:fs";
import * as net from "node:net";
import { Buffer } from "node:buffer";
import process from "node:process";

/** Permissions of a Unix socket file when no `mode` is given: owner and group read/write, as PHP-FPM's listen.mode. */
export const DEFAULT_SOCKET_MODE = 0o660;

/** Longest Unix socket path we bind (sun_path holds 108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;

/** Which file a path named when we created it. */
export interface FileId {
  path: string;
  dev: number;
  ino: number;
}

/** The identity of the file at `path` now, or null. */
export function fileId(path: string): FileId | null {
  try {
    const stat = fs.statSync(path);
    return { path, dev: stat.dev, ino: stat.ino };
  } catch {
    return null;
  }
}

/** True when something accepts connections on the socket at `path`. */
export function isAlive(path: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** The error listen() gives for a path that is taken. */
export function addressInUse(path: string): Error {
  return Object.assign(new Error(`listen EADDRINUSE: address already in use ${path}`), {
    code: "EADDRINUSE",
  });
}

/**
 * Removes the socket file of a closing server, only while it is still that
 * server's: a newer server may have bound the same path since (a restart, a
 * deploy).
 */
export function removeIfOurs(mine: FileId | null): void {
  const now = mine === null ? null : fileId(mine.path);
  if (mine === null || now === null || now.dev !== mine.dev || now.ino !== mine.ino) return;
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
 * Nothing but a stale socket file (one nobody answers on) is replaced: a
 * live socket or any other file is "address in use". The socket is bound
 * under a temporary name next to `path`, given its mode, and renamed into
 * place, so `path` never exists with looser permissions, and the name the
 * runtime removes when it closes the server (libuv, Deno and Bun unlink the
 * name they bound) is the temporary one. Returns the file to remove on
 * close (see {@link removeIfOurs}), or null when the runtime removes it.
 */
export async function bindUnix(
  path: string,
  mode: number,
  bind: (name: string) => Promise<void>,
  unbind: () => Promise<void>,
): Promise<FileId | null> {
  let stat: fs.Stats | null = null;
  try {
    stat = fs.lstatSync(path);
  } catch {
    // nothing there
  }
  if (stat !== null && (!stat.isSocket() || (await isAlive(path)))) throw addressInUse(path);
  const temporary = `${path}.${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  if (Buffer.byteLength(temporary) <= MAX_SOCKET_PATH) {
    await bind(temporary);
    try {
      fs.chmodSync(temporary, mode);
      fs.renameSync(temporary, path);
    } catch (error) {
      await unbind();
      throw error;
    }
    return fileId(path);
  }
  // No room for a temporary name: bind in place (the runtime removes `path` on close).
  if (stat !== null) fs.unlinkSync(path);
  await bind(path);
  fs.chmodSync(path, mode);
  return null;
}
