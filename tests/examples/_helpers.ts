// Runs an example the way a reader would (`webfcgi serve examples/x.ts`) on
// the runtime that runs the tests, and waits until it answers.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { runtimeCommand, scriptPath } from "../support/runtime.ts";
import { tempDir } from "../support/server.ts";

// A shell reports the runtime's real pid and exit status: Deno's
// child_process reports a child it signalled as killed even when the child
// handled the signal and exited 0 (as in tests/cli/serve.test.ts).
const WRAPPER = '"$@" & pid=$!; echo "pid=$pid" >&2; wait $pid; echo "exit=$?" >&2';

type Signal = "SIGTERM" | "SIGKILL" | "SIGHUP" | "SIGINT";

export interface Running {
  child: ChildProcess;
  /** The runtime's pid (not the wrapper shell's). */
  pid(): number;
  stdout(): string;
  stderr(): string;
  /** The runtime's exit status, once it exited. */
  exited: Promise<number | null>;
  signal(name: Signal): void;
  /** SIGTERM, then SIGKILL after `ms`; resolves with the exit status. */
  stop(ms?: number): Promise<number | null>;
}

/** Runs `command args` under the pid-reporting wrapper. */
export function spawnTracked(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Running {
  const child = spawn("sh", ["-c", WRAPPER, "sh", command, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
    cwd,
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", () => {
      const match = /exit=(\d+)\s*$/.exec(stderr);
      resolve(match === null ? null : Number(match[1]));
    })
  );
  const pid = () => Number(/pid=(\d+)/.exec(stderr)?.[1] ?? NaN);
  const signal = (name: Signal) => {
    const target = pid();
    if (!Number.isInteger(target)) return;
    try {
      process.kill(target, name);
    } catch {
      // already gone
    }
  };
  const stop = async (ms = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), ms);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    child,
    pid,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    signal,
    stop,
  };
}

/** True once something accepts connections on `target`. */
export function canConnect(target: { path: string } | { port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = "path" in target
      ? net.connect({ path: target.path })
      : net.connect({ port: target.port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until `target` accepts connections or `running` exits; throws after `ms`. */
export async function waitListening(
  target: { path: string } | { port: number },
  running: Running,
  ms = 10000,
): Promise<void> {
  const deadline = Date.now() + ms;
  let gone = false;
  running.exited.then(() => (gone = true));
  while (!(await canConnect(target))) {
    if (gone) throw new Error(`exited before listening:\n${running.stderr()}`);
    if (Date.now() > deadline) {
      throw new Error(`not listening after ${ms} ms:\n${running.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface ServedExample extends Running {
  /** The example's Unix socket. */
  socket: string;
  /** A temp dir for the test (holds the socket). */
  dir: string;
}

/**
 * `webfcgi serve examples/<name>.ts --listen unix:<temp>/app.sock` on this
 * runtime (Node runs the tsc output in .build/), with `env` added.
 */
export async function serveExample(
  name: string,
  env: Record<string, string> = {},
): Promise<ServedExample> {
  const dir = tempDir();
  const socket = path.join(dir, "app.sock");
  const { command, args } = runtimeCommand("cli.ts", [
    "serve",
    scriptPath(`examples/${name}`),
    "--listen",
    `unix:${socket}`,
  ]);
  const running = spawnTracked(command, args, env);
  try {
    await waitListening({ path: socket }, running);
  } catch (error) {
    await running.stop();
    throw error;
  }
  return { ...running, socket, dir };
}

/** Stops the example and removes its temp dir. */
export async function stopExample(example: ServedExample): Promise<number | null> {
  const code = await example.stop();
  fs.rmSync(example.dir, { recursive: true, force: true });
  return code;
}

/** A TCP port that was free a moment ago (for servers that need a number up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Peak resident memory (VmHWM) of `pid` in bytes, from /proc (Linux). Read
 * through `cat`: Deno lets only --allow-all read /proc/<pid>, and the test
 * scripts grant --allow-run instead.
 */
export function peakRss(pid: number): number {
  const status = execFileSync("cat", [`/proc/${pid}/status`], { encoding: "utf8" });
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
