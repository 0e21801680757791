// CPU time of a process tree from /proc: utime + stime of the root process
// and of every descendant (PHP-FPM workers, nginx workers); a process's own
// figure already covers all its threads.
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;
} catch {
  // Linux's USER_HZ is 100 nearly everywhere
}

function readStat(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    // comm may hold spaces and parentheses: the fields start after the last ")".
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null; // gone
  }
}

/** Pids of `rootPid` and all its descendants. */
export function processTree(rootPid) {
  const children = new Map();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat === null) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** CPU microseconds used so far by the given pids (those still alive). */
export function cpuMicros(pids) {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return (ticks * 1e6) / ticksPerSecond;
}

/** The resolution of cpuMicros, in microseconds. */
export const CPU_TICK_MICROS = 1e6 / ticksPerSecond;
