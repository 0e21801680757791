// Bun 1.4 reports every failed Unix socket connect as ECONNREFUSED, in
// node:net and Bun.connect alike: a live server whose backlog is full (the
// kernel says EAGAIN) looks like a stale socket (ECONNREFUSED). When
// node:net says refused, this asks the kernel itself with one non-blocking
// connect through libc (bun:ffi), on Linux; elsewhere, or if that cannot be
// loaded, node:net's answer stands.
import { Buffer } from "node:buffer";
import { constants } from "node:os";
import process from "node:process";
import { type ConnectProbe, netProbe, type ProbeResult } from "./socket_probe.ts";

/** The few bun:ffi members used here (no Bun types in the tsc build). */
interface BunFfi {
  dlopen(
    name: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => number> };
  ptr(view: Uint8Array): number;
  read: { i32(pointer: number, offset: number): number };
}

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: number, length: number): number;
  close(fd: number): number;
  errno(): number;
  ptr(view: Uint8Array): number;
}

// Linux values (x86-64 and arm64, the platforms Bun runs on).
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
/** sun_path's size on Linux. */
const SUN_PATH = 108;
const LIBC_NAMES = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.platform !== "linux") return null;
  const require = (import.meta as { require?: (id: string) => unknown }).require;
  let ffi: BunFfi;
  try {
    ffi = require!("bun:ffi") as BunFfi;
  } catch {
    return null;
  }
  for (const name of LIBC_NAMES) {
    try {
      const { symbols } = ffi.dlopen(name, {
        socket: { args: ["i32", "i32", "i32"], returns: "i32" },
        connect: { args: ["i32", "ptr", "u32"], returns: "i32" },
        close: { args: ["i32"], returns: "i32" },
        __errno_location: { args: [], returns: "ptr" },
      });
      libc = {
        socket: (domain, type, protocol) => symbols.socket(domain, type, protocol),
        connect: (fd, addr, length) => symbols.connect(fd, addr, length),
        close: (fd) => symbols.close(fd),
        errno: () => ffi.read.i32(symbols.__errno_location(), 0),
        ptr: (view) => ffi.ptr(view),
      };
      return libc;
    } catch {
      // not this libc
    }
  }
  return null;
}

/** errno values to names; the first name of a value wins (EAGAIN, not EWOULDBLOCK). */
const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/**
 * What the kernel answers to a non-blocking connect to `path`: "connected"
 * or the errno's name; null when libc cannot be reached from here.
 *
 * @example
 * ```ts
 * const found = kernelConnect("/run/app.sock"); // "EAGAIN" for a full backlog
 * ```
 */
export function kernelConnect(path: string): ProbeResult | null {
  const lib = loadLibc();
  const name = Buffer.from(path);
  if (lib === null || name.length >= SUN_PATH) return null;
  // struct sockaddr_un: a native-endian (little) u16 family, then the NUL-terminated path.
  const addr = new Uint8Array(2 + SUN_PATH);
  addr[0] = AF_UNIX;
  addr.set(name, 2);
  const fd = lib.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return null;
  try {
    // errno is read right after the call, before any other call on this thread.
    if (lib.connect(fd, lib.ptr(addr), 2 + name.length + 1) === 0) return "connected";
    const errno = lib.errno();
    return errnoNames.get(errno) ?? `errno ${errno}`;
  } finally {
    lib.close(fd);
  }
}

/**
 * Bun's connect probe: node:net's, except that its ECONNREFUSED is checked
 * with the kernel (it may be a full backlog).
 *
 * @example
 * ```ts
 * const found = await bunProbe("/run/app.sock", new AbortController().signal);
 * ```
 */
export const bunProbe: ConnectProbe = async (path, signal) => {
  const found = await netProbe(path, signal);
  if (found !== "ECONNREFUSED") return found;
  return kernelConnect(path) ?? found;
};
