// The runtime's own HTTP server on the Unix socket given as the first
// argument, for the nginx proxy_pass peers: Deno.serve and Bun.serve run the
// bench app's fetch handler; Node runs node:http with its native (req, res)
// API, which is what a Node user gets without a fetch adapter.
import process from "node:process";

const path = process.argv[2];
if (!path) throw new Error("usage: native_server <socket path>");

if (globalThis.Deno) {
  const { default: app } = await import("./app.ts");
  const stopping = new AbortController();
  globalThis.Deno.addSignalListener("SIGTERM", () => stopping.abort());
  const server = globalThis.Deno.serve(
    { path, signal: stopping.signal, onListen() {} },
    app.fetch,
  );
  await server.finished;
} else if (globalThis.Bun) {
  const { default: app } = await import("./app.ts");
  // idleTimeout at its maximum: nginx keeps idle upstream connections for 60 s.
  const server = globalThis.Bun.serve({ unix: path, idleTimeout: 255, fetch: app.fetch });
  process.once("SIGTERM", () => server.stop(true));
} else {
  const { createServer } = await import("node:http");
  const { handler } = await import("./node_routes.mjs");
  const server = createServer(handler);
  // Above nginx's 60 s upstream keepalive_timeout, so nginx closes first.
  server.keepAliveTimeout = 120_000;
  server.listen(path);
  process.once("SIGTERM", () => server.close());
}
