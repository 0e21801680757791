/**
 * Graceful restarts under systemd socket activation. systemd owns the
 * listening socket (app.socket) and hands it to the app (app.service) as
 * fd 3 with LISTEN_FDS/LISTEN_PID; serveFastCGI() with no address picks it
 * up. On `systemctl restart app`, systemd sends SIGTERM: the app stops
 * accepting, finishes the requests in flight, and exits; systemd starts the
 * new version on the same socket. The socket never closes, so requests that
 * arrive meanwhile wait in its queue and the new process answers them: no
 * request is refused or cut off.
 *
 * /etc/systemd/system/app.socket:
 *
 *     [Socket]
 *     ListenStream=/run/app.sock
 *     SocketUser=www-data
 *     SocketMode=0600
 *
 *     [Install]
 *     WantedBy=sockets.target
 *
 * /etc/systemd/system/app.service:
 *
 *     [Unit]
 *     Requires=app.socket
 *     After=app.socket
 *
 *     [Service]
 *     # One of (Node runs the JavaScript that tsc or the npm package gives):
 *     ExecStart=/usr/bin/deno run --allow-env --allow-net /srv/app/socket_activation.ts
 *     # ExecStart=/usr/bin/bun /srv/app/socket_activation.ts
 *     # ExecStart=/usr/bin/node /srv/app/socket_activation.js
 *     User=app
 *     # SIGTERM (the default KillSignal) starts the graceful shutdown; give it
 *     # more time than SHUTDOWN_TIMEOUT_MS before systemd sends SIGKILL.
 *     TimeoutStopSec=40
 *     Restart=on-failure
 *
 *     systemctl enable --now app.socket   # the app starts with the first request
 *     systemctl restart app.service       # deploy: in-flight requests finish, none are lost
 *
 * nginx then uses `fastcgi_pass unix:/run/app.sock;`. To try it without
 * systemd: `systemd-socket-activate -l /tmp/app.sock deno run -A
 * examples/socket_activation.ts` (it starts the app on the first
 * connection).
 *
 *   GET /              which process answered
 *   GET /slow?ms=2000  a response that takes `ms` (at most 60000): its first
 *                      line at once, the rest at the end
 */
import process from "node:process";
import { serveFastCGI } from "../mod.ts"; // in your app: "@webfcgi/webfcgi"

const SHUTDOWN_TIMEOUT_MS = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 30_000);
const encoder = new TextEncoder();
const started = new Date().toISOString();

function slow(url: URL, signal: AbortSignal): Response {
  const ms = Math.min(60_000, Math.max(0, Number(url.searchParams.get("ms")) || 0));
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(`pid ${process.pid}: working for ${ms} ms\n`));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (!signal.aborted) controller.enqueue(encoder.encode(`pid ${process.pid}: done\n`));
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
}

function handler(request: Request): Response {
  const url = new URL(request.url);
  if (url.pathname === "/slow") return slow(url, request.signal);
  return new Response(`pid ${process.pid}, up since ${started}\n`, {
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

// SIGTERM (systemctl stop/restart) and Ctrl-C start a graceful shutdown.
const stopping = new AbortController();
const stop = (signal: string) => {
  stopping.abort();
  console.error(`pid ${process.pid}: ${signal}, no longer accepting; finishing requests in flight`);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

const server = serveFastCGI({
  // No address: systemd's socket (LISTEN_FDS), else fd 0 when it is a
  // socket (spawn-fcgi, mod_fcgid), else 127.0.0.1:9000.
  signal: stopping.signal,
  // Requests still running after this are aborted, so the process exits
  // before systemd's TimeoutStopSec and its SIGKILL.
  shutdownTimeout: SHUTDOWN_TIMEOUT_MS,
  onListen: () => console.error(`pid ${process.pid}: serving`),
}, handler);

await server.finished;
console.error(`pid ${process.pid}: stopped`);
