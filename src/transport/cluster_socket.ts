// Binding a Unix socket path from node:cluster workers, whose socket the
// cluster primary binds: under a private name first, like bindUnix.
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { Buffer } from "node:buffer";
import process from "node:process";
import { type ConnectProbe, netProbe, probeSocket } from "./socket_probe.ts";
import {
  fileId,
  MAX_SOCKET_PATH,
  place,
  removeDir,
  replaceable,
  sameFile,
  UnixSocketError,
} from "./unix_socket.ts";

/** A short, stable name for `text` (FNV-1a), to tell the temporary names of two paths apart. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(36);
}

/**
 * Binds `path` from a node:cluster worker. The cluster primary binds the
 * socket when the first worker listens on a name, and hands the same socket
 * to every worker that listens on that name: so every worker of a primary
 * listens on one private name (a directory next to `path` named after the
 * primary's pid, that only this user may enter), and the worker that finds
 * the socket there newly bound gives it its mode and puts it at `path`,
 * over a stale file only. A sibling that finds the socket already placed
 * just serves. The primary's bind happens in its own process, out of reach
 * of a umask set here: with no room for the private name, this refuses
 * (ENAMETOOLONG) instead of binding in place.
 *
 * Returns null: workers leave the socket file where it is on close (their
 * siblings may still serve on it); the primary closes the socket when the
 * last worker is gone and then removes the private name, not `path` (the
 * `webfcgi serve --workers` primary removes `path` when it exits).
 *
 * @example
 * ```ts
 * import cluster from "node:cluster";
 * import * as net from "node:net";
 * if (cluster.isWorker) {
 *   const server = net.createServer();
 *   await bindUnixShared(
 *     "/run/app/app.sock",
 *     0o660,
 *     (name) => new Promise((resolve) => server.listen({ path: name }, resolve)),
 *     () => new Promise((resolve) => server.close(() => resolve())),
 *   );
 * }
 * ```
 */
export async function bindUnixShared(
  path: string,
  mode: number,
  bind: (name: string) => Promise<void>,
  unbind: () => Promise<void>,
  probe: ConnectProbe = netProbe,
): Promise<null> {
  const existing = fs.lstatSync(path, { throwIfNoEntry: false });
  if (existing !== undefined && !existing.isSocket()) throw new UnixSocketError("EADDRINUSE", path);
  const dir = nodePath.join(
    nodePath.dirname(path),
    `.webfcgi-${process.ppid.toString(36)}-${shortHash(nodePath.basename(path))}`,
  );
  const temporary = nodePath.join(dir, "s");
  if (Buffer.byteLength(temporary) > MAX_SOCKET_PATH) {
    throw new UnixSocketError(
      "ENAMETOOLONG",
      path,
      null,
      `no room for the private name ${temporary} that cluster workers bind ${path} under ` +
        `(at most ${MAX_SOCKET_PATH} bytes); use a shorter path`,
    );
  }
  privateDir(dir);
  try {
    await bind(temporary);
    const bound = fileId(temporary);
    if (bound === null) {
      // Gone: a sibling placed it at `path` before us, or could not place it
      // (the path is in use) and removed it. Only a placed one accepts.
      if ((await probeSocket(path, probe)) === "connected") return null;
      throw new UnixSocketError(
        "EADDRINUSE",
        path,
        null,
        `address already in use ${path} (a sibling worker could not take it)`,
      );
    }
    try {
      fs.chmodSync(temporary, mode);
      if (sameFile(fileId(path), bound)) {
        fs.rmSync(temporary, { force: true });
        return null;
      }
      place(temporary, path, await replaceable(path, probe));
    } catch (error) {
      // A sibling placed it meanwhile: the socket is where it belongs.
      if (sameFile(fileId(path), bound)) {
        fs.rmSync(temporary, { force: true });
        return null;
      }
      await unbind();
      // The primary unlinks it too, once its last worker is gone: maybe later.
      fs.rmSync(temporary, { force: true });
      throw error;
    }
  } finally {
    removeDir(dir);
  }
  return null;
}

/** Creates `dir` for this user only, or accepts it if it already is that (a sibling made it). */
function privateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    return;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EEXIST") throw error;
  }
  const stat = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (stat.mode & 0o077) !== 0 || (uid !== undefined && stat.uid !== uid)) {
    throw new UnixSocketError(
      "EADDRINUSE",
      dir,
      null,
      `${dir} exists and is not a directory private to this user; not binding in it`,
    );
  }
}
