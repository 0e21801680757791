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

/**
 * Lets a worker process exit once its server stopped: the IPC channel to the
 * primary would keep Bun's event loop alive.
 */
export function leaveCluster(): void {
  if (cluster.isWorker && process.connected) process.disconnect?.();
}

function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ path });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Clears a stale Unix socket before the workers bind `path` together: a
 * worker must not remove what a sibling has just bound.
 */
async function prepareSocket(path: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket() || (await probe(path))) {
    throw new Error(`listen EADDRINUSE: address already in use ${path}`);
  }
  fs.unlinkSync(path);
}

/**
 * Runs `count` workers until SIGTERM/SIGINT; resolves with the exit code.
 * Each worker re-runs this process's command line and serves on its own.
 */
export async function runWorkers(count: number, unixPath: string | undefined): Promise<number> {
  if (unixPath !== undefined) await prepareSocket(unixPath);
  let stopping = false;
  let quickDeaths = 0;
  const started = new Map<Worker, number>();
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
          if (unixPath !== undefined) removeSocketFile(unixPath);
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

function removeSocketFile(path: string): void {
  try {
    if (fs.lstatSync(path).isSocket()) fs.unlinkSync(path);
  } catch {
    // already gone
  }
}
