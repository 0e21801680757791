// Process runner: every process the suite starts is recorded here, runs in
// its own process group with its output in a log file in the run's temp dir,
// and is stopped by its recorded pid (the whole group: nginx and PHP-FPM
// workers too), also on Ctrl-C, errors and exit.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";

/** @type {Set<{ name: string, pid: number, child: import("node:child_process").ChildProcess }>} */
const running = new Set();

/**
 * Starts `command` in `dir`; stdout and stderr go to `dir/<name>.log`.
 * @returns {{ name: string, pid: number, child: import("node:child_process").ChildProcess, log: () => string }}
 */
export function start(name, command, args, { dir, env = process.env } = {}) {
  const logFile = path.join(dir, `${name}.log`);
  const fd = fs.openSync(logFile, "a");
  const child = spawn(command, args, {
    cwd: dir,
    env,
    stdio: ["ignore", fd, fd],
    detached: true, // its own process group, so a stop reaches its workers
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const proc = { name, pid: child.pid, child, log: () => readTail(logFile) };
  running.add(proc);
  child.once("exit", () => running.delete(proc));
  return proc;
}

function readTail(file) {
  try {
    return fs.readFileSync(file, "utf8").slice(-2000);
  } catch {
    return "";
  }
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", resolve));
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`. */
export async function stop(proc, graceMs = 3000) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    killGroup(proc.pid, "SIGTERM");
    const timer = setTimeout(() => killGroup(proc.pid, "SIGKILL"), graceMs);
    await exited(proc.child);
    clearTimeout(timer);
  }
  // Workers that ignored the master's exit.
  killGroup(proc.pid, "SIGKILL");
  running.delete(proc);
}

/** Stops everything still running. */
export async function stopAll() {
  await Promise.all([...running].map((proc) => stop(proc)));
}

/** Last resort on process exit: synchronous SIGKILL of every recorded group. */
export function killAllNow() {
  for (const proc of running) killGroup(proc.pid, "SIGKILL");
  running.clear();
}

function canConnect(options) {
  return new Promise((resolve) => {
    const socket = net.connect(options);
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/** Waits until `{ path }` or `{ port, host }` accepts connections, or throws with the log. */
export async function waitListening(proc, options, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(options)) return;
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(
        `${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.log()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`${proc.name} is not listening after ${timeoutMs} ms:\n${proc.log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs `command` to completion (bounded by `timeoutMs`); resolves with its output. */
export function runToEnd(command, args, { cwd, env = process.env, timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const proc = { name: path.basename(command), pid: child.pid, child };
    running.add(proc);
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(proc);
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
}

/** Stops every recorded process on Ctrl-C, SIGTERM, or a crash, then exits. */
export function installCleanup(onCleanup = () => {}) {
  const bail = (code) => {
    stopAll().finally(() => {
      onCleanup();
      process.exit(code);
    });
  };
  process.once("SIGINT", () => {
    console.error("\ninterrupted: stopping the processes this run started");
    bail(130);
  });
  process.once("SIGTERM", () => bail(143));
  process.on("exit", killAllNow);
}
