// Starts the selected contenders' backends (each in its own directory under
// the run's temp dir, on a Unix socket) and the one nginx in front of them.
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { processTree } from "./cpu.mjs";
import { nginxArgs, writeNginxConfig } from "./nginx.mjs";
import { start, waitListening } from "./procs.mjs";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts every backend in parallel; a contender that does not come up is
 * reported in `failures` and left out.
 * @returns {Promise<{ active: any[], failures: string[] }>}
 */
export async function startBackends(ctx, contenders) {
  const failures = [];
  const started = await Promise.all(contenders.map(async (c) => {
    const dir = path.join(ctx.dir, c.id);
    fs.mkdirSync(dir, { recursive: true });
    const socket = path.join(dir, "app.sock");
    const sockets = [socket, ...(c.extraSockets?.(socket) ?? [])];
    const entry = { ...c, port: await freePort(), socket, sockets, proc: null };
    if (c.scriptRoot) entry.scriptRoot = c.scriptRoot(ctx);
    if (!c.launch) return entry;
    try {
      entry.proc = c.launch(ctx, entry.socket, dir);
      for (const one of sockets) await waitListening(entry.proc, { path: one });
      return entry;
    } catch (error) {
      failures.push(`${c.id}: did not start: ${String(error?.message ?? error).slice(0, 600)}`);
      return null;
    }
  }));
  return { active: started.filter(Boolean), failures };
}

/** Starts nginx for `active`; resolves once every server block answers. */
export async function startNginx(ctx, active) {
  const conf = writeNginxConfig(ctx.dir, active);
  const proc = start("nginx", ctx.tools.nginx, nginxArgs(ctx.dir, conf), { dir: ctx.dir });
  for (const c of active) await waitListening(proc, { host: "127.0.0.1", port: c.port });
  const workers = processTree(proc.pid).filter((pid) => pid !== proc.pid);
  return { proc, workers };
}
