// Shared pieces of the client tests: a connection-counting TCP proxy, a
// scriptable fake FastCGI server, deterministic byte streams and hashes.
import * as net from "node:net";
import { createHash } from "node:crypto";
import { RecordDecoder } from "../../src/protocol/decoder.ts";
import { encodeRecord, encodeStream } from "../../src/protocol/record.ts";
import { encodeEndRequestBody } from "../../src/protocol/bodies.ts";
import { decodePairs, encodePairs } from "../../src/protocol/pairs.ts";
import { RecordType } from "../../src/protocol/constants.ts";
import type { FastCGIRecord } from "../../src/protocol/record.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(5);
  }
}

export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Byte `i` of the deterministic test pattern. */
export function patternByte(i: number): number {
  return (i * 31 + (i >>> 8) * 7) & 0xff;
}

/** `length` bytes of the test pattern starting at `offset`. */
export function pattern(length: number, offset = 0): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = patternByte(offset + i);
  return bytes;
}

/** A stream of `total` pattern bytes in `chunk`-sized pieces, produced on demand. */
export function patternStream(
  total: number,
  chunk = 65536,
  onPull?: (produced: number) => void,
): ReadableStream<Uint8Array> {
  let produced = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (produced >= total) {
        controller.close();
        return;
      }
      const size = Math.min(chunk, total - produced);
      controller.enqueue(pattern(size, produced));
      produced += size;
      onPull?.(produced);
    },
  }, { highWaterMark: 0 });
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads a stream to the end; returns its length and SHA-256. */
export async function hashStream(
  stream: ReadableStream<Uint8Array>,
): Promise<{ length: number; sha256: string }> {
  const hash = createHash("sha256");
  let length = 0;
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    hash.update(value);
    length += value.length;
  }
  return { length, sha256: hash.digest("hex") };
}

export type Target = { port: number; hostname?: string } | { path: string };

/** A TCP proxy in front of `target` that counts the connections made through it. */
export async function countingProxy(target: Target): Promise<{
  port: number;
  connections: number;
  open: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  const state = {
    port: 0,
    connections: 0,
    open: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    state.connections++;
    state.open++;
    const upstream = "path" in target
      ? net.connect({ path: target.path })
      : net.connect({ port: target.port, host: target.hostname ?? "127.0.0.1" });
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    let closed = false;
    const done = () => {
      if (closed) return;
      closed = true;
      state.open--;
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", done);
    upstream.on("error", done);
    client.on("close", done);
    upstream.on("close", done);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

/** One request as the fake server saw it. */
export interface FakeRequest {
  id: number;
  role: number;
  keepConn: boolean;
  params: Record<string, string>;
  stdin: Uint8Array;
}

/** What a fake server can do with a request: write records, end it, close the connection. */
export interface FakeReply {
  socket: net.Socket;
  stdout(text: string | Uint8Array): void;
  stderr(text: string | Uint8Array): void;
  end(protocolStatus?: number, appStatus?: number): void;
  raw(bytes: Uint8Array): void;
}

/**
 * A scriptable FastCGI server for the cases webfcgi's own server never
 * produces: `onRequest` runs once a request's STDIN has ended.
 */
export async function fakeServer(
  onRequest: (request: FakeRequest, reply: FakeReply) => void | Promise<void>,
  options: {
    getValues?: Record<string, string> | null;
    onBegin?: (id: number, socket: net.Socket) => void;
  } = {},
): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    const decoder = new RecordDecoder();
    const pending = new Map<
      number,
      FakeRequest & { paramBytes: Uint8Array[]; stdinParts: Uint8Array[] }
    >();
    const write = (bytes: Uint8Array) => {
      if (!socket.destroyed) socket.write(bytes);
    };
    socket.on("data", (chunk: Uint8Array) => {
      decoder.push(chunk, (record: FastCGIRecord) => {
        const id = record.requestId;
        if (id === 0) {
          if (record.type === RecordType.GET_VALUES && options.getValues !== null) {
            const values = options.getValues ?? { FCGI_MPXS_CONNS: "0" };
            const names = decodePairs(record.content).map(([name]) => name);
            const answer: Array<[string, string]> = names.filter((n) => n in values).map((
              n,
            ) => [n, values[n]]);
            write(encodeRecord(RecordType.GET_VALUES_RESULT, 0, encodePairs(answer)));
          }
          return;
        }
        switch (record.type) {
          case RecordType.BEGIN_REQUEST:
            options.onBegin?.(id, socket);
            pending.set(id, {
              id,
              role: (record.content[0] << 8) | record.content[1],
              keepConn: (record.content[2] & 1) === 1,
              params: {},
              stdin: new Uint8Array(),
              paramBytes: [],
              stdinParts: [],
            });
            return;
          case RecordType.PARAMS: {
            const request = pending.get(id);
            if (request === undefined) return;
            if (record.content.length > 0) request.paramBytes.push(record.content.slice());
            else request.params = Object.fromEntries(decodePairs(concat(request.paramBytes)));
            return;
          }
          case RecordType.STDIN: {
            const request = pending.get(id);
            if (request === undefined) return;
            if (record.content.length > 0) {
              request.stdinParts.push(record.content.slice());
              return;
            }
            request.stdin = concat(request.stdinParts);
            pending.delete(id);
            const reply: FakeReply = {
              socket,
              stdout: (text) =>
                write(
                  encodeStream(
                    RecordType.STDOUT,
                    id,
                    typeof text === "string" ? enc.encode(text) : text,
                  ),
                ),
              stderr: (text) =>
                write(
                  encodeStream(
                    RecordType.STDERR,
                    id,
                    typeof text === "string" ? enc.encode(text) : text,
                  ),
                ),
              end: (protocolStatus = 0, appStatus = 0) => {
                write(encodeRecord(RecordType.STDOUT, id));
                write(
                  encodeRecord(
                    RecordType.END_REQUEST,
                    id,
                    encodeEndRequestBody(appStatus, protocolStatus),
                  ),
                );
                if (!request.keepConn) socket.end();
              },
              raw: write,
            };
            Promise.resolve(onRequest(request, reply)).catch(() => socket.destroy());
            return;
          }
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A TCP port nobody listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
