// One bounded wrk run: stops after `requests` responses (count.lua stops each
// thread after its share and says so; wrk would still wait out -d, so it gets
// SIGINT, on which it reports as usual) or after `maxSeconds`.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const WRK = "/usr/bin/wrk";
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "count.lua");

/**
 * Runs wrk against http://127.0.0.1:port and resolves with the counts from
 * count.lua's done(): requests, duration_us, connect/read/write/status/
 * timeout errors, not200, p99_us.
 */
export function runWrk({ port, threads, connections, requests, maxSeconds }) {
  const perThread = Math.max(1, Math.ceil(requests / threads));
  const args = [
    "-t",
    String(threads),
    "-c",
    String(connections),
    "-d",
    `${Math.max(1, Math.ceil(maxSeconds))}s`,
    "--timeout",
    "10s",
    "-s",
    SCRIPT,
    `http://127.0.0.1:${port}/`,
    "--",
    String(perThread),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(WRK, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let interrupted = false;
    child.stdout.on("data", (chunk) => {
      out += chunk;
      // Every thread has its count: end wrk now rather than at -d.
      if (!interrupted && (out.match(/^THREAD-DONE$/gm) ?? []).length >= threads) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (chunk) => (out += chunk));
    // wrk bounds itself with -d; this is the bound on wrk.
    const guard = setTimeout(() => child.kill("SIGKILL"), (maxSeconds + 30) * 1000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(guard);
      const line = /^SOAK (\{.*\})$/m.exec(out);
      if (code !== 0 || line === null) reject(new Error(`wrk failed (${code}):\n${out}`));
      else resolve(JSON.parse(line[1]));
    });
  });
}
