// A private PHP-FPM master for tests: its own config, pid file, log and
// Unix socket in a temp dir; a static pool; stopped by pid.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import process from "node:process";
import { tempDir } from "./server.ts";

export interface PhpFpm {
  /** The pool's Unix socket. */
  socket: string;
  /** The master's pid. */
  pid: number;
  /** The master's log so far. */
  log(): string;
  /** Stops the master (SIGTERM, then SIGKILL) and removes the temp dir. */
  stop(): Promise<void>;
}

function canConnect(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect({ path: socket });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts `binary` (php-fpm8.2) with a static pool of `children` workers. */
export async function startPhpFpm(binary: string, children = 4): Promise<PhpFpm> {
  const dir = tempDir();
  const socket = path.join(dir, "php.sock");
  const logFile = path.join(dir, "php-fpm.log");
  const root = process.getuid?.() === 0;
  const config = [
    "[global]",
    `pid = ${path.join(dir, "php-fpm.pid")}`,
    `error_log = ${logFile}`,
    "daemonize = no",
    "",
    "[webfcgi-test]",
    // As root, PHP-FPM insists on a user (and -R to allow root).
    ...(root ? ["user = root", "group = root"] : []),
    `listen = ${socket}`,
    "listen.mode = 0600",
    "pm = static",
    `pm.max_children = ${children}`,
    "catch_workers_output = no",
    "php_admin_value[post_max_size] = 64M",
    "php_admin_value[upload_max_filesize] = 64M",
    "php_admin_value[memory_limit] = 256M",
    "php_admin_value[output_buffering] = 0",
    "php_admin_flag[expose_php] = off",
    "",
  ].join("\n");
  const configFile = path.join(dir, "php-fpm.conf");
  fs.writeFileSync(configFile, config);
  // -n: no php.ini, so error_log() goes to FCGI_STDERR and the system's settings do not leak in.
  const args = ["-F", "-n", "-y", configFile, "-p", dir, ...(root ? ["-R"] : [])];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const log = () => {
    let file = "";
    try {
      file = fs.readFileSync(logFile, "utf8");
    } catch {
      // not written yet
    }
    return output + file;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited(child);
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15000;
  while (!(fs.existsSync(socket) && await canConnect(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`php-fpm did not start (${args.join(" ")}):\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { socket, pid: child.pid!, log, stop };
}
