// The interop app as a program, for web servers and spawners that start the
// app themselves (h2o fastcgi.spawn, spawn-fcgi, mod_fcgid, lighttpd
// bin-path). With no WEBFCGI_APP_LISTEN it serves the listening socket it
// inherited on fd 0 (FCGI_LISTENSOCK_FILENO); otherwise "unix:/path" or
// "tcp:127.0.0.1:0". Prints "listening {addr}" on stdout once listening.
//
// Run it with the runtime under test (see spawnAppArgv in runtime.ts):
//   node .build/tests/interop/support/spawn_app.js
//   deno run -A tests/interop/support/spawn_app.ts
//   bun tests/interop/support/spawn_app.ts
import process from "node:process";
import { serveFastCGI } from "../../../mod.ts";
import type { FastCGIServeOptions } from "../../../mod.ts";
import { type AppMeta, interopApp } from "./app.ts";

const listen = process.env.WEBFCGI_APP_LISTEN ?? "";
let options: FastCGIServeOptions = {};
if (listen.startsWith("unix:")) options = { path: listen.slice(5) };
else if (listen.startsWith("tcp:")) {
  const rest = listen.slice(4);
  const colon = rest.lastIndexOf(":");
  options = { hostname: rest.slice(0, colon), port: Number(rest.slice(colon + 1)) };
}
const meta: AppMeta = { listen: listen === "" ? "inherited" : listen };

const server = serveFastCGI({
  ...options,
  onListen(addr) {
    meta.addr = addr;
    console.log(`listening ${JSON.stringify(addr)}`);
  },
}, interopApp(meta));

server.finished.catch((error: Error) => {
  console.error(`spawn_app: ${error?.message ?? error}`);
  process.exit(3);
});
