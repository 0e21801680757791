// Is a socket file in the way stale (nobody listens: it may be replaced) or
// in use? Asked by connecting to it, for a bounded time.
import * as net from "node:net";

/** How long a connect probe may take before the path counts as in use (a local connect takes microseconds). */
export const PROBE_TIMEOUT_MS = 2000;

/**
 * What connecting to a socket file found: "connected", "timeout", or the
 * error code (e.g. "ECONNREFUSED", "EAGAIN").
 *
 * @example
 * ```ts
 * const found: ProbeResult = "EAGAIN"; // a live server whose backlog is full
 * ```
 */
export type ProbeResult = string;

/**
 * Connects to the socket at `path` and reports what happened; gives up
 * (and releases what it opened) when `signal` aborts.
 *
 * @example
 * ```ts
 * const probe: ConnectProbe = () => Promise.resolve("ECONNREFUSED");
 * ```
 */
export type ConnectProbe = (path: string, signal: AbortSignal) => Promise<ProbeResult>;

/**
 * What a probe result says about a socket file: "stale" (nobody listens:
 * it may be replaced), "denied" (we may not connect, so we cannot tell: it
 * may be in use) or "live" (in use). Only ECONNREFUSED and ENOENT (the file
 * went away meanwhile) are stale; a full backlog (EAGAIN), a timeout and
 * any error we do not know mean that a server may be there.
 *
 * @example
 * ```ts
 * socketState("ECONNREFUSED"); // "stale"
 * socketState("EAGAIN"); // "live"
 * ```
 */
export function socketState(result: ProbeResult): "stale" | "live" | "denied" {
  switch (result) {
    case "ECONNREFUSED":
    case "ENOENT":
      return "stale";
    case "EACCES":
    case "EPERM":
      return "denied";
    default:
      return "live";
  }
}

/**
 * The node:net connect probe: "connected", or the error code node:net gives.
 *
 * @example
 * ```ts
 * const found = await netProbe("/run/app.sock", new AbortController().signal);
 * ```
 */
export function netProbe(path: string, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    const socket = net.connect({ path });
    const done = (result: ProbeResult) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => done("timeout");
    signal.addEventListener("abort", onAbort);
    socket.once("connect", () => done("connected"));
    socket.once("error", (error: Error & { code?: unknown }) => {
      done(typeof error.code === "string" ? error.code : "error");
    });
  });
}

/**
 * Runs `probe` on `path` for at most `timeoutMs`: a connect that does not
 * answer (it may wait on a full backlog) is "timeout", which counts as live.
 *
 * @example
 * ```ts
 * const found = await probeSocket("/run/app.sock", netProbe);
 * ```
 */
export async function probeSocket(
  path: string,
  probe: ConnectProbe,
  timeoutMs: number = PROBE_TIMEOUT_MS,
): Promise<ProbeResult> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve("timeout");
    }, timeoutMs);
  });
  try {
    return await Promise.race([probe(path, controller.signal), expired]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
