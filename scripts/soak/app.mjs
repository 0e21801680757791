// The app the soak and idle runs measure, on any of the three runtimes:
//
//   <runtime> scripts/soak/app.mjs --mod <mod.ts or .build/mod.js> --path <socket>
//                                  [--max-connections N] [--leak-bytes N]
//
// GET answers a short text; POST reads its body and answers its length (so
// FCGI_STDIN streams are part of every soak); GET /__gc runs a full garbage
// collection where the runtime allows it (--expose-gc, Bun.gc) and answers
// process.memoryUsage() as JSON. Prints "ready <pid>" once listening.
// --leak-bytes keeps that many bytes per request, for checking the checker.
import process from "node:process";
import { pathToFileURL } from "node:url";

function arg(name) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const modPath = arg("mod");
const socketPath = arg("path");
if (modPath === undefined || socketPath === undefined) {
  console.error("usage: app.mjs --mod <mod.ts|mod.js> --path <socket> [--max-connections N]");
  process.exit(2);
}
const maxConnections = arg("max-connections") === undefined
  ? undefined
  : Number(arg("max-connections"));
/** A deliberate leak (bytes kept per request), to show the soak's check catches one. */
const leakBytes = Number(arg("leak-bytes") ?? 0);
const leaked = [];

const { serveFastCGI } = await import(pathToFileURL(modPath).href);

/** A full collection: Bun.gc(true), or V8's gc() under --expose-gc. */
function collect() {
  const bun = globalThis.Bun;
  if (bun !== undefined) {
    bun.gc(true);
    return true;
  }
  if (typeof globalThis.gc === "function") {
    globalThis.gc();
    return true;
  }
  return false;
}

let served = 0;
const server = serveFastCGI({
  path: socketPath,
  maxConnections,
  onListen() {
    console.log(`ready ${process.pid}`);
  },
}, async (request) => {
  served++;
  if (leakBytes > 0) leaked.push(new Uint8Array(leakBytes));
  const url = new URL(request.url);
  if (url.pathname === "/__gc") {
    const collected = collect();
    return Response.json({ collected, served, ...process.memoryUsage() });
  }
  if (request.method === "POST") {
    const body = await request.arrayBuffer();
    return new Response(`got ${body.byteLength} bytes\n`);
  }
  return new Response(`hello ${url.pathname}${url.search}\n`, {
    headers: { "content-type": "text/plain" },
  });
});

process.on("SIGTERM", () => {
  server.shutdown().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref?.();
});
