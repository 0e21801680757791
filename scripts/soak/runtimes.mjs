// Starting and stopping the soak app on Deno, Bun or Node (on the tsc build
// in .build/), and reading a process's resident memory from /proc.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { nodeLine } from "../node_lines.mjs";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const APP = path.join(root, "scripts", "soak", "app.mjs");

export const RUNTIMES = ["deno", "bun", "node"];

/**
 * Node is Node 24 from node_modules (the devDependency node24, as in the
 * bench), not whichever `node` npm's PATH finds first.
 */
function nodeBin() {
  const line = nodeLine(24);
  if (!line?.present) throw new Error("node_modules/node24 is missing: run npm ci");
  return line.bin;
}

/**
 * argv that runs `script` on `runtime` with `--mod <the package entry>`
 * (mod.ts on Deno and Bun, the tsc build on Node) and `args`, with a full
 * GC callable from the script (--expose-gc; Bun.gc needs no flag).
 */
export function runtimeCommand(runtime, script, args = []) {
  if (runtime === "deno") {
    return [bin("deno"), [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      script,
      "--mod",
      path.join(root, "mod.ts"),
      ...args,
    ]];
  }
  if (runtime === "bun") return [bin("bun"), [script, "--mod", path.join(root, "mod.ts"), ...args]];
  return [nodeBin(), [
    "--expose-gc",
    script,
    "--mod",
    path.join(root, ".build", "mod.js"),
    ...args,
  ]];
}

/** argv that runs the soak app on `runtime`, with a full GC callable from the app. */
export function appCommand(runtime, socketPath, extra = [], script = APP) {
  return runtimeCommand(runtime, script, ["--path", socketPath, ...extra]);
}

/** Version of each runtime, for the report ("2.9.6", "1.4.5", "v20.20.2"). */
export function runtimeVersion(runtime) {
  const [command] = runtime === "node" ? [nodeBin()] : [bin(runtime)];
  const out = spawnSync(command, ["--version"], { encoding: "utf8", timeout: 10000 });
  return (out.stdout ?? "").split("\n")[0].replace(/^deno /, "").replace(/ \(.*$/, "").trim();
}

/** deno fmt on generated files, so that `npm run lint` (deno fmt --check) stays clean. */
export function formatFiles(paths) {
  spawnSync(bin("deno"), ["fmt", "--quiet", ...paths], { cwd: root, timeout: 60000 });
}

/**
 * Node runs the tsc output: build it (shared .build/, as the test suite
 * does). tsc still emits on type errors (in a half-edited test, say): then
 * warn and go on if .build/mod.js is there.
 */
export function buildForNode() {
  const out = spawnSync(bin("tsc"), ["-p", path.join(root, "tsconfig.json")], {
    cwd: root,
    encoding: "utf8",
    timeout: 300000,
  });
  if (out.status === 0) return;
  const message = `tsc reported errors:\n${out.stdout}${out.stderr}`;
  if (!fs.existsSync(path.join(root, ".build", "mod.js"))) throw new Error(message);
  console.warn(`warning: ${message.trim()}\n(going on with the emitted .build/)`);
}

/**
 * Starts the app (or another `script` taking the same arguments) and
 * resolves once it prints "ready" (bounded: 30 s). With `stdin: "pipe"` the
 * child's stdin is a pipe (child.stdin). Returns { pid, child, output(), stop() }.
 */
export async function startApp(
  runtime,
  socketPath,
  extra = [],
  { script = APP, stdin = "ignore" } = {},
) {
  const [command, args] = appCommand(runtime, socketPath, extra, script);
  const child = spawn(command, args, { cwd: root, stdio: [stdin, "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output = (output + chunk).slice(-20000)));
  const deadline = Date.now() + 30000;
  while (!/ready \d+/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${runtime} app did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    pid: child.pid,
    child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the child has exited. */
export function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Resident set size of `pid` in KB (VmRSS), or null once the process is gone. */
export function rssKb(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** Open file descriptors of `pid`, or null. */
export function fdCount(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** The 1-minute load average, to say how busy the machine was. */
export function machineLoad() {
  try {
    return Number(fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return null;
  }
}
