/**
 * A Hono app served over FastCGI, unchanged: Hono's `app` is already a
 * `{ fetch }` object, so `webfcgi serve` takes it as it is.
 *
 *     npm install hono
 *     webfcgi serve examples/hono.ts --listen 127.0.0.1:9000    # behind nginx, see the README
 *     webfcgi dev examples/hono.ts                               # or try it at http://127.0.0.1:8080/
 *
 * webfcgi calls `fetch(request, info)`, and Hono hands its second argument
 * to handlers as `c.env`: typing the Bindings as `FastCGIInfo` gives routes
 * the CGI params the web server sent (REMOTE_ADDR, HTTPS, SCRIPT_NAME, ...).
 *
 *   GET  /                 a greeting
 *   GET  /hello/:name      a route parameter, as JSON
 *   POST /echo             a JSON body back
 *   GET  /whoami           the client address, from the FastCGI params
 */
import { Hono } from "hono";
import type { FastCGIInfo } from "../mod.ts";

const app = new Hono<{ Bindings: FastCGIInfo }>();

app.get("/", (c) => c.text("Hello from Hono over FastCGI!\n"));

app.get("/hello/:name", (c) => c.json({ hello: c.req.param("name") }));

app.post("/echo", async (c) => c.json({ echo: await c.req.json() }, 201));

app.get("/whoami", (c) => c.text(`${c.env.params.REMOTE_ADDR ?? "unknown"} via ${c.env.role}\n`));

export default app;
