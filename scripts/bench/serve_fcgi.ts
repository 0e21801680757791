// webfcgi serving the bench app on the Unix socket given as the first
// argument; SIGTERM shuts it down. Run by deno and bun from source and by
// node from the bench's own tsc build.
import process from "node:process";
import { serveFastCGI } from "../../mod.ts";
import app from "./app.ts";

const path = process.argv[2];
if (!path) throw new Error("usage: serve_fcgi <socket path>");
const stopping = new AbortController();
process.once("SIGTERM", () => stopping.abort());
process.once("SIGINT", () => stopping.abort());
const server = serveFastCGI({ path, signal: stopping.signal, onListen() {} }, app.fetch);
await server.finished;
