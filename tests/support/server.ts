// Starts a server for one test and hands back where it listens.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { serveFastCGI } from "../../mod.ts";
import type { FastCGIHandler, FastCGIServeOptions, FastCGIServer } from "../../mod.ts";
import type { Target } from "./fcgi_client.ts";

export interface Started {
  server: FastCGIServer;
  target: Target;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function start(
  handler: FastCGIHandler,
  options: FastCGIServeOptions & { unix?: boolean } = {},
): Promise<Started> {
  const { unix, ...rest } = options;
  const listen: FastCGIServeOptions = unix
    ? { path: path.join(tempDir(), "app.sock") }
    : { hostname: "127.0.0.1", port: 0 };
  const server = serveFastCGI({ onListen() {}, ...listen, ...rest }, handler);
  const addr = await server.listening;
  const target: Target = addr.transport === "unix"
    ? { path: addr.path }
    : { port: addr.port, hostname: addr.hostname };
  return { server, target, [Symbol.asyncDispose]: () => server.shutdown() };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "webfcgi-test-"));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
