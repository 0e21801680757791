// Shared helpers for the fault-injection tests. Not a test file itself.
import assert from "node:assert/strict";
import * as net from "node:net";
import process from "node:process";
import { fetchRaw, GET, type Target } from "../support/fcgi_client.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();
export const MB = 1 << 20;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  settled: () => boolean;
} {
  let resolve!: (value: T) => void;
  let done = false;
  const promise = new Promise<T>((r) => (resolve = (value) => {
    done = true;
    r(value);
  }));
  return { promise, resolve, settled: () => done };
}

/** Rejects if `promise` does not settle within `ms`: no fault may turn into a hang. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `predicate` every 10 ms until it holds or `ms` pass. */
export async function eventually(
  predicate: () => boolean,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

/** Collects unhandled rejections while a test file runs. */
export function watchRejections(): { list: unknown[]; stop: () => void } {
  const list: unknown[] = [];
  const on = (reason: unknown) => list.push(reason);
  process.on("unhandledRejection", on);
  return { list, stop: () => process.off("unhandledRejection", on) };
}

/** A fresh connection gets a correct 200: the server is still serving. */
export async function assertServing(target: Target, note = ""): Promise<void> {
  const r = await within(
    fetchRaw(target, { params: GET("/health") }),
    5000,
    `a healthy request ${note}`,
  );
  r.conn.close();
  assert.equal(r.protocolStatus, 0, `protocolStatus ${note}`);
  assert.equal(r.appStatus, 0, `appStatus ${note}`);
  assert.equal(r.cgi.status, 200, `status ${note}`);
  assert.equal(r.cgi.text, "healthy", `body ${note}`);
}

/** A raw socket to the server that does not read unless told to. */
export function connectRaw(target: Target): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = "path" in target
      ? net.connect({ path: target.path })
      : net.connect({ port: target.port, host: target.hostname ?? "127.0.0.1" });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resident set size now. */
export function rss(): number {
  return process.memoryUsage().rss;
}

export function fmt(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}
