// `webfcgi serve --workers N`: one primary process forks N copies of the
// command with node:cluster (on Node and Bun; Deno's loses connections), and
// the workers share one listening socket. The primary serves nothing itself: it
// restarts workers that die, forwards SIGTERM/SIGINT, and exits when all of
// them have stopped.
import cluster from "node:cluster";
import type { Worker } from "node:cluster";
import * as fs from "node:fs";
import * as net from "node:net";
import process from "node:process";

/** A worker that dies sooner than this after it started counts as a failed start. */
const QUICK_DEATH_MS = 2000;
/** How long stopped workers get to exit before they are killed. */
const REAP_MS = 10000;
/** Failed starts in a row after which the primary gives up. */
const MAX_QUICK_DEATHS = 5;

/** True in a process forked by {@link runWorkers}. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/** What a worker tells the primary about the socket file it serves on. */
interface SocketReport {
  webfcgiSocket: { dev: number; ino: number };
}

function isSocketReport(message: unknown): message is SocketReport {
  const report = (message as SocketReport | null)?.webfcgiSocket;
  return typeof report?.dev === "number" && typeof report.ino === "number";
}

/**
 * Tells the primary which file is the workers' socket at `path`, once this
 * worker listens there: the primary removes that file when it exits, and
 * only that one.
 *
 * @example
 * ```ts
 * if (isWorker()) reportSocket("/run/app.sock");
 * ```
 */
export function reportSocket(path: string): void {
  const stat = fs.lstatSync(path, { throwIfNoEntry: false });
  if (!cluster.isWorker || stat === undefined || !stat.isSocket()) return;
  const report: SocketReport = { webfcgiSocket: { dev: stat.dev, ino: stat.ino } };
  process.send?.(report);
}

/**
 * Lets a worker process exit once its server stopped: the IPC channel to the
 * primary would keep Bun's event loop alive. Through the worker's own
 * disconnect, which marks the exit as intended: a bare process.disconnect()
 * makes node:cluster exit the worker with 0 at once, losing its exit code.
 */
export function leaveCluster(): void {
  if (!cluster.isWorker || !process.connected) return;
  if (typeof cluster.worker?.disconnect === "function") cluster.worker.disconnect();
  else process.disconnect?.();
}

/** How long the primary waits for a connection to a socket file in the way. */
const PROBE_MS = 2000;

/** True when a connection to `path` is accepted within PROBE_MS. */
function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ path });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), PROBE_MS);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Refuses, before any worker starts, a path that is plainly taken: a file
 * that is not a socket, or a socket that accepts a connection. Any other
 * socket file is left for the workers to judge (they replace it only when
 * it is stale: a full backlog or a socket they may not connect to is not),
 * so the primary removes nothing.
 */
async function checkSocket(path: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket() || (await accepts(path))) {
    throw new Error(`listen EADDRINUSE: address already in use ${path}`);
  }
}

/**
 * Runs `count` workers until SIGTERM/SIGINT; resolves with the exit code.
 * Each worker re-runs this process's command line and serves on its own.
 */
export async function runWorkers(count: number, unixPath: string | undefined): Promise<number> {
  if (unixPath !== undefined) await checkSocket(unixPath);
  let stopping = false;
  let quickDeaths = 0;
  const started = new Map<Worker, number>();
  let socketFile: SocketReport["webfcgiSocket"] | null = null;
  cluster.on("message", (_worker, message) => {
    if (isSocketReport(message)) socketFile = message.webfcgiSocket;
  });
  const pids: number[] = [];
  const fork = () => {
    const worker = cluster.fork();
    started.set(worker, Date.now());
    if (worker.process.pid !== undefined) pids.push(worker.process.pid);
  };
  return await new Promise<number>((resolve) => {
    let code = 0;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      for (const worker of started.keys()) worker.process.kill("SIGTERM");
    };
    cluster.on("exit", (worker, exitCode, signal) => {
      const since = started.get(worker) ?? 0;
      started.delete(worker);
      if (!stopping) {
        const quick = Date.now() - since < QUICK_DEATH_MS;
        quickDeaths = quick ? quickDeaths + 1 : 0;
        process.stderr.write(
          `webfcgi: worker ${worker.process.pid} exited (${signal ?? exitCode})${
            quickDeaths >= MAX_QUICK_DEATHS ? "; giving up" : ", restarting"
          }\n`,
        );
        if (quickDeaths >= MAX_QUICK_DEATHS) {
          code = 1;
          stop();
        } else {
          fork();
        }
      }
      if (stopping && started.size === 0) {
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
        reap(pids).then(() => {
          if (unixPath !== undefined) removeSocketFile(unixPath, socketFile);
          resolve(code);
        });
      }
    });
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    for (let i = 0; i < count; i++) fork();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits for worker processes that cluster reported gone but that still run
 * (Deno 2.9 reports a worker whose IPC channel broke as exited), then kills
 * what is left after REAP_MS: no worker outlives the primary.
 */
async function reap(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + REAP_MS;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = left.filter(alive);
  }
  for (const pid of left) {
    process.stderr.write(`webfcgi: worker ${pid} did not stop; killing it\n`);
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/** Removes the workers' socket file, if it is still the one they reported (not another server's). */
function removeSocketFile(path: string, ours: SocketReport["webfcgiSocket"] | null): void {
  const stat = fs.lstatSync(path, { throwIfNoEntry: false });
  if (ours === null || stat === undefined || stat.dev !== ours.dev || stat.ino !== ours.ino) return;
  try {
    fs.unlinkSync(path);
  } catch {
    // already gone
  }
}
