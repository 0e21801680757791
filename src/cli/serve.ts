import * as path from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { serveFastCGI } from "../responder/server.ts";
import type { FastCGIHandler, FastCGIServeOptions } from "../responder/types.ts";
import { parseAddress, parseArgs, UsageError } from "./args.ts";
import { isWorker, leaveCluster, reportSocket, runWorkers } from "./workers.ts";

/** Loads an app module: a default export `{ fetch }` or a handler function. */
export async function loadApp(file: string): Promise<FastCGIHandler> {
  const url = pathToFileURL(path.resolve(file)).href;
  const module = await import(url);
  const app = module.default;
  if (typeof app === "function") return app as FastCGIHandler;
  if (app !== null && typeof app === "object" && typeof app.fetch === "function") {
    return (request, info) => app.fetch(request, info);
  }
  throw new UsageError(`${file} has no default export { fetch } or handler function`);
}

function parseWorkers(text: string | undefined): number {
  if (text === undefined) return 1;
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1 || count > 256) {
    throw new UsageError(`--workers takes a whole number from 1 to 256, not ${text}`);
  }
  return count;
}

/**
 * `webfcgi serve app.ts [--listen ADDRESS] [--workers N]`; resolves when the
 * server (or, with N > 1, every worker) stopped.
 */
export async function serve(args: readonly string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args, ["--listen", "-l", "--workers", "-w"], []);
  if (positionals.length !== 1) {
    throw new UsageError("serve takes one module: webfcgi serve app.ts");
  }
  const listen = flags.get("--listen")?.at(-1) ?? flags.get("-l")?.at(-1);
  const workers = parseWorkers(flags.get("--workers")?.at(-1) ?? flags.get("-w")?.at(-1));
  const options: FastCGIServeOptions = listen === undefined ? {} : parseAddress(listen);
  if (workers > 1 && "Deno" in globalThis) {
    // Measured on Deno 2.9: its node:cluster sometimes leaves a worker
    // without connections for a minute, and workers fail on shutdown.
    throw new UsageError(
      "--workers is not supported on Deno (its node:cluster loses connections); run several " +
        "`webfcgi serve` processes behind one nginx upstream instead (docs/scaling.md)",
    );
  }
  if (workers > 1 && !isWorker()) {
    return await runWorkers(workers, "path" in options ? options.path : undefined);
  }
  // Signal handlers first: Deno installs them asynchronously, and a web
  // server may send SIGTERM as soon as the socket answers.
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    const handler = await loadApp(positionals[0]);
    const server = serveFastCGI({ ...options, signal: stopping.signal }, handler);
    if (isWorker() && "path" in options && options.path !== undefined) {
      const socketPath = options.path;
      server.listening.then(() => reportSocket(socketPath), () => {});
    }
    await server.finished;
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    leaveCluster();
  }
  return 0;
}
