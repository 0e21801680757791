// Child processes for the interop suite: web servers and spawned apps run in
// their own process group, their output is kept for the log, readiness is a
// TCP connect, and stopping is by pid (then by process group, then SIGKILL).
// Whatever is still running when the test process exits is killed.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";

const live = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pid of live) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        try {
          process.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
    }
  });
}

export interface ProcessOptions {
  /** A name for messages ("nginx stock"). */
  name: string;
  argv: string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Files (e.g. the server's error log) appended to log(). */
  logFiles?: string[];
  /** Data for stdin (else /dev/null). */
  stdin?: "ignore" | "pipe";
}

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | string>;
  exitCode: number | string | null = null;
  #output: string[] = [];
  #outputSize = 0;
  #logFiles: string[];
  #argv: string[];

  constructor(options: ProcessOptions) {
    installExitHook();
    this.name = options.name;
    this.#argv = options.argv;
    this.#logFiles = options.logFiles ?? [];
    const [command, ...args] = options.argv;
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env as Record<string, string> | undefined,
      stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
      detached: true,
    });
    this.pid = this.child.pid ?? -1;
    if (this.pid > 0) live.add(this.pid);
    this.child.stdout?.on("data", (chunk: Uint8Array) => this.#keep(chunk));
    this.child.stderr?.on("data", (chunk: Uint8Array) => this.#keep(chunk));
    this.exited = new Promise((resolve) => {
      this.child.once("error", (error) => {
        this.#keep(new TextEncoder().encode(`spawn failed: ${error.message}\n`));
        this.exitCode = "spawn-error";
        live.delete(this.pid);
        resolve("spawn-error");
      });
      this.child.once("exit", (code, signal) => {
        this.exitCode = code ?? signal ?? "?";
        live.delete(this.pid);
        resolve(this.exitCode);
      });
    });
  }

  #keep(chunk: Uint8Array): void {
    const text = new TextDecoder().decode(chunk);
    this.#output.push(text);
    this.#outputSize += text.length;
    while (this.#outputSize > 65536 && this.#output.length > 1) {
      this.#outputSize -= this.#output.shift()!.length;
    }
  }

  /** Everything the process printed, plus its log files. */
  log(): string {
    let text = `$ ${this.#argv.join(" ")}\n${this.#output.join("")}`;
    if (this.exitCode !== null) text += `\n[exited: ${this.exitCode}]\n`;
    for (const file of this.#logFiles) {
      try {
        const content = fs.readFileSync(file, "utf8");
        text += `\n--- ${file} ---\n${
          content.length > 65536 ? "…" + content.slice(-65536) : content
        }`;
      } catch {
        text += `\n--- ${file}: (none) ---\n`;
      }
    }
    return text;
  }

  /** Just the output so far. */
  output(): string {
    return this.#output.join("");
  }

  /** Resolves with the first output line matching `pattern`; rejects if the process exits first. */
  async waitForOutput(pattern: RegExp, ms = 15000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const match = pattern.exec(this.output());
      if (match !== null) return match;
      if (this.exitCode !== null) {
        throw new Error(`${this.name} exited (${this.exitCode}) before printing ${pattern}`);
      }
      await sleep(25);
    }
    throw new Error(`${this.name} did not print ${pattern} within ${ms} ms`);
  }

  /** Resolves once `port` (or a Unix `path`) accepts connections; rejects if the process exits first. */
  async waitForListen(
    target: { port: number; host?: string } | { path: string },
    ms = 15000,
  ): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.exitCode !== null) {
        throw new Error(`${this.name} exited (${this.exitCode}) before listening`);
      }
      if (await canConnect(target)) return;
      await sleep(25);
    }
    throw new Error(`${this.name} was not listening on ${JSON.stringify(target)} within ${ms} ms`);
  }

  /** Stops the process: `signal` to the pid, then the whole group, then SIGKILL. */
  async stop(signal: "SIGTERM" | "SIGQUIT" | "SIGINT" = "SIGTERM", graceMs = 5000): Promise<void> {
    if (this.exitCode !== null || this.pid <= 0) return this.#killGroup();
    try {
      process.kill(this.pid, signal);
    } catch { /* already gone */ }
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      sleep(graceMs).then(() => true),
    ]);
    if (timedOut) {
      try {
        process.kill(-this.pid, "SIGKILL");
      } catch {
        try {
          process.kill(this.pid, "SIGKILL");
        } catch { /* gone */ }
      }
      await Promise.race([this.exited, sleep(2000)]);
    }
    this.#killGroup();
  }

  // Children (nginx workers, spawned apps) must not outlive the test.
  #killGroup(): void {
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch { /* no such group: everyone is gone */ }
    live.delete(this.pid);
  }
}

export function canConnect(
  target: { port: number; host?: string } | { path: string },
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = "path" in target
      ? net.connect({ path: target.path })
      : net.connect({ port: target.port, host: target.host ?? "127.0.0.1" });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A fresh temp dir for one server instance. */
export function makeTempDir(label: string): string {
  return fs.mkdtempSync(
    path.join(os.tmpdir(), `webfcgi-interop-${label.replace(/[^\w-]/g, "_")}-`),
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
