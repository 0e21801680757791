// The server under test of `npm run limits`, on any of the three runtimes:
//
//   <runtime> scripts/limits/app.mjs --mod <mod.ts or .build/mod.js> --path <socket>
//                                    [--max-connections N] [--max-requests N]
//
// Every request is held: its handler reads nothing (neither the body nor
// info.data) and awaits a promise that only the "release" command resolves. Commands come
// one a line on stdin, each answered by one JSON line on stdout:
//   mem      a full GC (Bun.gc(true), or V8's gc() under --expose-gc), twice,
//            then process.memoryUsage() and the request counts
//   stats    the request counts only: started, ended (info.completed
//            settled: answered or aborted), held
//   release  answers every held request (their peers may be gone)
// Prints "ready <pid>" once listening; exits on SIGTERM or when stdin closes.
import process from "node:process";
import { pathToFileURL } from "node:url";

function arg(name) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const number = (name) => (arg(name) === undefined ? undefined : Number(arg(name)));

const modPath = arg("mod");
const socketPath = arg("path");
if (modPath === undefined || socketPath === undefined) {
  console.error("usage: app.mjs --mod <mod.ts|mod.js> --path <socket> [--max-connections N]");
  process.exit(2);
}

const { serveFastCGI } = await import(pathToFileURL(modPath).href);

/** A full collection where the runtime allows it. */
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let started = 0;
let ended = 0;
/** Resolvers of the held handlers' promises. */
let held = [];

const server = serveFastCGI({
  path: socketPath,
  maxConnections: number("max-connections"),
  maxRequests: number("max-requests"),
  onListen() {
    console.log(`ready ${process.pid}`);
  },
}, (_request, info) => {
  started++;
  info.completed.then(() => ended++);
  return new Promise((resolve) => held.push(resolve));
});

const counts = () => ({ started, ended, held: held.length });

async function command(line) {
  if (line === "stats") return counts();
  if (line === "release") {
    const released = held;
    held = [];
    for (const resolve of released) resolve(new Response("released\n"));
    return { released: released.length };
  }
  if (line === "mem") {
    // Twice, with a pause: V8 frees ArrayBuffer backing stores off the main
    // thread, and finalizers may free more on the second pass.
    const collected = collect();
    await sleep(50);
    collect();
    return { collected, at: Date.now(), ...counts(), ...process.memoryUsage() };
  }
  return { error: `unknown command ${JSON.stringify(line)}` };
}

let input = "";
let queue = Promise.resolve();
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  input += chunk;
  let newline;
  while ((newline = input.indexOf("\n")) >= 0) {
    const line = input.slice(0, newline).trim();
    input = input.slice(newline + 1);
    if (line === "") continue;
    // In order, one at a time: a GC is not interleaved with another command.
    queue = queue.then(() => command(line)).then((reply) =>
      process.stdout.write(JSON.stringify(reply) + "\n")
    );
  }
});

function stop() {
  for (const resolve of held) resolve(new Response("stopping\n"));
  held = [];
  server.shutdown().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref?.();
}
process.stdin.on("end", stop);
process.on("SIGTERM", stop);
