/**
 * A small app served over FastCGI: `npm start` runs it on 127.0.0.1:9000
 * (or on the socket a web server hands it on fd 0). Put nginx in front with
 * the `location` block from the README.
 *
 *   GET  /            a greeting
 *   POST /echo        the request body back, with its size
 *   GET  /events      three server-sent events, one per second
 */
import { serveFastCGI } from "../mod.ts";

const encoder = new TextEncoder();

async function app(request: Request): Promise<Response> {
  const url = new URL(request.url);
  switch (url.pathname) {
    case "/":
      return new Response(
        `Hello from webfcgi, ${request.headers.get("user-agent") ?? "stranger"}!\n`,
      );
    case "/echo": {
      const body = new Uint8Array(await request.arrayBuffer());
      return new Response(body, {
        headers: {
          "content-type": request.headers.get("content-type") ?? "application/octet-stream",
          "x-echo-bytes": String(body.length),
        },
      });
    }
    case "/events": {
      let n = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (n > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
          controller.enqueue(encoder.encode(`data: tick ${++n}\n\n`));
          if (n === 3) controller.close();
        },
      });
      return new Response(stream, {
        headers: { "content-type": "text/event-stream", "x-accel-buffering": "no" },
      });
    }
    default:
      return new Response("Not Found\n", { status: 404 });
  }
}

const server = serveFastCGI({
  port: Number(
    (globalThis as { process?: { env: Record<string, string> } }).process?.env.PORT ?? 9000,
  ),
  hostname: "127.0.0.1",
  onListen(addr) {
    console.error(
      `hello app: FastCGI on ${
        addr.transport === "tcp" ? `${addr.hostname}:${addr.port}` : addr.path
      }`,
    );
  },
}, app);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  (globalThis as { process?: { once(s: string, f: () => void): void } }).process?.once(
    signal,
    () => {
      server.shutdown();
    },
  );
}
