// The programs the suite drives: where they are, whether they are missing
// (with the apt-get line that installs them), their versions, and the machine.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { machineNode, nodeLine } from "../node_lines.mjs";

const SEARCH = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/usr/local/sbin", "/sbin"];

function which(...names) {
  for (const name of names) {
    for (const dir of SEARCH) {
      if (dir === "") continue;
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** The Node line the Node contenders run on (node_modules/node24, from npm ci). */
export const BENCH_NODE_MAJOR = 24;

function versionOf(bin) {
  if (bin === process.execPath) return process.version;
  const out = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 10000 });
  return out.stdout?.trim() || null;
}

/**
 * The Nodes of the bench: `bench` is Node 24 from node_modules (null if it
 * is not installed), `machine` the Node that runs npm, when it is another
 * version (null otherwise). Each { bin, version, major }.
 */
export function benchNodes() {
  const line = nodeLine(BENCH_NODE_MAJOR);
  const bench = line?.present
    ? { bin: line.bin, version: `v${line.version}`, major: line.major }
    : null;
  const bin = machineNode();
  const version = versionOf(bin);
  const major = Number(/^v(\d+)/.exec(version ?? "")?.[1]);
  const machine = version && version !== bench?.version ? { bin, version, major } : null;
  return { bench, machine };
}

/** Finds every tool; missing ones are null. */
export function findTools(root) {
  const local = (name) => {
    const file = path.join(root, "node_modules/.bin", name);
    return fs.existsSync(file) ? file : null;
  };
  const nodes = benchNodes();
  return {
    wrk: which("wrk"),
    nginx: which("nginx"),
    go: which("go"),
    "php-fpm": which("php-fpm8.2", "php-fpm"),
    deno: local("deno"),
    bun: local("bun"),
    tsc: local("tsc"),
    node: nodes.bench?.bin ?? null,
    "node-machine": nodes.machine?.bin ?? null,
  };
}

const APT = { wrk: "wrk", nginx: "nginx", go: "golang-go", "php-fpm": "php-fpm" };
const NPM = { node: `node${BENCH_NODE_MAJOR}` };

/** Returns a message naming what is missing and how to install it, or null. */
export function missingTools(tools, needed) {
  const missing = needed.filter((name) => !tools[name]);
  if (missing.length === 0) return null;
  const apt = missing.filter((name) => APT[name]).map((name) => APT[name]);
  const npm = missing.filter((name) => !APT[name]);
  return [
    `missing: ${missing.join(", ")}`,
    ...(apt.length ? [`  install with: apt-get install -y ${apt.join(" ")}`] : []),
    ...(npm.length
      ? [
        `  install with: npm ci   (${
          npm.map((name) => NPM[name] ?? name).join(", ")
        } come from node_modules)`,
      ]
      : []),
  ].join("\n");
}

// nginx -v prints to stderr and wrk -v exits 1: read both streams, whatever the exit code.
function firstLine(command, args) {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 10000 });
  const text = `${result.stdout ?? ""}\n${result.stderr ?? ""}`;
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "unknown";
}

/** Version lines of the tools that are present. */
export function toolVersions(tools) {
  const versions = {};
  const add = (name, args, pick = (line) => line) => {
    if (tools[name]) versions[name] = pick(firstLine(tools[name], args));
  };
  add("node", ["--version"]);
  if (tools["node-machine"]) {
    versions["node (the machine's, runs npm)"] = firstLine(tools["node-machine"], ["--version"]);
  }
  add("deno", ["--version"]);
  add("bun", ["--version"]);
  add("go", ["version"]);
  add("php-fpm", ["-v"]);
  add("nginx", ["-v"]);
  add("wrk", ["-v"], (line) => line.replace(/ Copyright.*/, ""));
  return versions;
}

/** CPU model, cores, kernel, memory. */
export function machine() {
  let model = os.cpus()[0]?.model ?? "unknown";
  try {
    model = /model name\s*:\s*(.*)/.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? model;
  } catch {
    // not Linux
  }
  return {
    cpu: model.trim(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}
