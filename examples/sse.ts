/**
 * Server-sent events over FastCGI: a response body that never "finishes",
 * written one event at a time. Each event leaves as soon as it is enqueued
 * (webfcgi writes every chunk out as FCGI_STDOUT when it comes); the web
 * server must not buffer the response:
 *
 *     nginx      fastcgi_buffering off;  (or honour the X-Accel-Buffering: no sent here)
 *     lighttpd   server.stream-response-body = 2
 *     Apache     ProxyPass ... flushpackets=on  (mod_proxy_fcgi)
 *
 *     webfcgi serve examples/sse.ts --listen 127.0.0.1:9000
 *
 *   GET /clock?count=5&interval=1000   `count` events (default 10, at most
 *                                      1000), one every `interval` ms
 *                                      (50..60000, default 1000)
 *
 * Events carry an `id:`; a browser's EventSource reconnects with
 * `Last-Event-ID` and the stream resumes after it. When the client goes
 * away (the web server aborts the request or closes the connection), the
 * stream is cancelled and the timer stops: nothing keeps ticking for nobody.
 */

const encoder = new TextEncoder();

/** A query number within [min, max], or the fallback. */
function numberParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const value = Number(url.searchParams.get(name) ?? fallback);
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.trunc(value))) : fallback;
}

function clock(request: Request): Response {
  const url = new URL(request.url);
  const count = numberParam(url, "count", 10, 1, 1000);
  const interval = numberParam(url, "interval", 1000, 50, 60_000);
  // Resume after the last event the client saw (EventSource sends its id).
  const lastId = Number(request.headers.get("last-event-id") ?? 0);
  let sent = Number.isInteger(lastId) && lastId > 0 ? Math.min(lastId, count) : 0;
  let wait = 0; // the first event goes at once
  let timer: ReturnType<typeof setTimeout> | undefined;

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // Tell EventSource how long to wait before reconnecting.
      controller.enqueue(encoder.encode(`retry: ${interval}\n\n`));
    },
    // pull() runs when the previous chunk has been taken: one event per tick.
    pull(controller) {
      if (sent >= count) return controller.close();
      return new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          sent++;
          const data = JSON.stringify({ n: sent, time: new Date().toISOString() });
          controller.enqueue(encoder.encode(`id: ${sent}\nevent: tick\ndata: ${data}\n\n`));
          resolve();
        }, wait);
        wait = interval;
      });
    },
    // The client left: stop the clock.
    cancel() {
      clearTimeout(timer);
      console.error(`sse: client left after ${sent} of ${count} events`);
    },
  });

  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no", // nginx: do not buffer this response
    },
  });
}

function fetch(request: Request): Response {
  const { pathname } = new URL(request.url);
  if (pathname === "/clock" && request.method === "GET") return clock(request);
  return new Response("Not Found\n", { status: 404, headers: { "content-type": "text/plain" } });
}

export default { fetch };
