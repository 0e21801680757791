// The web-server side of `npm run limits`: Unix-socket connections that
// write as much as the socket takes (and wait for drain, never queueing
// more than one buffer in this process), read or not, and count what they
// get back. Every wait is bounded.
import { Buffer } from "node:buffer";
import * as net from "node:net";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects to the Unix socket `path` (bounded: `ms`). */
function connectOnce(path, ms) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("connect timed out"));
    }, ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      // Resets and EPIPE after the server closed: routine here.
      socket.on("error", () => {});
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Connects to the Unix socket `path` (bounded: `ms`). A full listen backlog
 * answers EAGAIN on a Unix socket (TCP would queue): try again shortly.
 */
export async function connect(path, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await connectOnce(path, Math.max(1, deadline - Date.now()));
    } catch (error) {
      if (error?.code !== "EAGAIN" || Date.now() >= deadline) throw error;
      await sleep(20);
    }
  }
}

/** `count` connections, opened `wave` at a time. */
export async function connectMany(path, count, wave = 100) {
  const sockets = [];
  for (let start = 0; start < count; start += wave) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + wave); i++) batch.push(connect(path));
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

/**
 * Bytes the kernel took from this socket (written, minus what still waits
 * in this process's buffer): what the server has read or the socket holds.
 */
export function accepted(socket) {
  return socket.bytesWritten - socket.writableLength;
}

/**
 * Writes `next()`'s buffers in order until it returns null: as long as the
 * socket takes them, then after each drain. A peer that writes everything
 * it can and waits for nothing else. Returns { done, stop() }.
 */
export function pump(socket, next) {
  const state = {
    done: false,
    stopped: false,
    stop() {
      state.stopped = true;
    },
  };
  const go = () => {
    while (!state.stopped && !socket.destroyed) {
      const buffer = next();
      if (buffer === null) {
        state.done = true;
        return;
      }
      if (!socket.write(buffer)) {
        socket.once("drain", go);
        return;
      }
    }
  };
  go();
  return state;
}

/** A `next` for pump(): the buffers of `list` in order. */
export function listOf(list) {
  let at = 0;
  return () => (at < list.length ? list[at++] : null);
}

/** A `next` for pump(): `buffer`, `times` times. */
export function repeat(buffer, times) {
  let left = times;
  return () => (left-- > 0 ? buffer : null);
}

/**
 * Reads the socket and counts the records that come back by type
 * (counts[3] is END_REQUEST); the content is dropped.
 */
export function countRecords(socket) {
  const counts = {};
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    let bytes = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (bytes.length - at >= 8) {
      const end = at + 8 + bytes.readUInt16BE(at + 4) + bytes[at + 6];
      if (bytes.length < end) break;
      counts[bytes[at + 1]] = (counts[bytes[at + 1]] ?? 0) + 1;
      at = end;
    }
    bytes = bytes.subarray(at);
    pending = Buffer.from(bytes);
  });
  return counts;
}

/** Waits until `test()` is true (polled every `every` ms, bounded: `ms`); returns whether it was. */
export async function until(test, ms, every = 50) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await test()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(every);
  }
}

/**
 * Waits until `value()` has not changed for `quietMs` (bounded: `ms`);
 * returns whether it settled.
 */
export async function settled(value, quietMs, ms) {
  const deadline = Date.now() + ms;
  let last = value();
  let since = Date.now();
  for (;;) {
    await sleep(Math.min(50, quietMs));
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return true;
    if (Date.now() >= deadline) return false;
  }
}
