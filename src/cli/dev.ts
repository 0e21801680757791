import * as http from "node:http";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { Readable } from "node:stream";
import { FastCGIClient } from "../client/client.ts";
import { serveFastCGI } from "../responder/server.ts";
import { parseArgs, UsageError } from "./args.ts";
import { loadApp } from "./serve.ts";

/** Forwards one HTTP request to the FastCGI app, streaming both ways. */
async function forward(
  client: FastCGIClient,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  port: number,
): Promise<void> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const url = `http://${req.headers.host ?? `127.0.0.1:${port}`}${req.url ?? "/"}`;
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const abort = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const response = await client.fetch(url, {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal: abort.signal,
    params: {
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
      REMOTE_PORT: String(req.socket.remotePort ?? 0),
    },
  });
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) if (name !== "set-cookie") out[name] = value;
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText, out);
  if (response.body === null) return void res.end();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
  }
  res.end();
}

/**
 * `webfcgi dev app.ts [--port 8080] [--hostname 127.0.0.1]`: the app over
 * FastCGI on a private Unix socket, and a small HTTP front built on the
 * client, for local work without a web server.
 */
export async function dev(args: readonly string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args, ["--port", "--hostname"], []);
  if (positionals.length !== 1) throw new UsageError("dev takes one module: webfcgi dev app.ts");
  const port = Number(flags.get("--port")?.at(-1) ?? "8080");
  const hostname = flags.get("--hostname")?.at(-1) ?? "127.0.0.1";
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("bad --port");
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webfcgi-dev-"));
  try {
    const handler = await loadApp(positionals[0]);
    const socket = path.join(dir, "app.sock");
    const app = serveFastCGI({ path: socket, signal: stopping.signal, onListen() {} }, handler);
    await app.listening;
    const client = new FastCGIClient({ path: socket });
    const front = http.createServer((req, res) => {
      forward(client, req, res, port).catch((error) => {
        if (!res.headersSent) {
          res.writeHead(502, { "content-type": "text/plain" });
          res.end(`webfcgi dev: ${error instanceof Error ? error.message : error}\n`);
        } else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      front.once("error", reject);
      front.listen(port, hostname, () => resolve());
    });
    const bound = front.address() as { port: number };
    process.stderr.write(
      `webfcgi dev: http://${hostname}:${bound.port}/ -> ${
        positionals[0]
      } over FastCGI (for development only; in production put a web server in front of webfcgi serve)\n`,
    );
    await new Promise<void>((resolve) => {
      if (stopping.signal.aborted) resolve();
      else stopping.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    front.closeAllConnections?.();
    await new Promise<void>((resolve) => front.close(() => resolve()));
    await client.close();
    await app.finished;
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
