/**
 * A small app as `deno serve`, Bun and `webfcgi serve` take it: a default
 * export with `fetch`. `npm start` runs it under `webfcgi dev` on
 * http://127.0.0.1:8080/ (through real FastCGI); in production, run
 * `webfcgi serve examples/hello.ts` behind nginx (see the README).
 *
 *   GET  /            a greeting
 *   POST /echo        the request body back, with its size
 *   GET  /events      three server-sent events, one per second
 */

const encoder = new TextEncoder();

async function fetch(request: Request): Promise<Response> {
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

export default { fetch };
