import * as path from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { serveFastCGI } from "../responder/server.ts";
import type { FastCGIHandler, FastCGIServeOptions } from "../responder/types.ts";
import { parseAddress, parseArgs, UsageError } from "./args.ts";

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

/** `webfcgi serve app.ts [--listen ADDRESS]`; resolves when the server stopped. */
export async function serve(args: readonly string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args, ["--listen", "-l"], []);
  if (positionals.length !== 1) {
    throw new UsageError("serve takes one module: webfcgi serve app.ts");
  }
  const listen = flags.get("--listen")?.at(-1) ?? flags.get("-l")?.at(-1);
  const options: FastCGIServeOptions = listen === undefined ? {} : parseAddress(listen);
  // Signal handlers first: Deno installs them asynchronously, and a web
  // server may send SIGTERM as soon as the socket answers.
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    const handler = await loadApp(positionals[0]);
    const server = serveFastCGI({ ...options, signal: stopping.signal }, handler);
    await server.finished;
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  }
  return 0;
}
