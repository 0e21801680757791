// The npm package node-fastcgi (a node:http-style FastCGI server) serving the
// bench routes on the Unix socket given as the first argument.
import process from "node:process";
import fcgi from "node-fastcgi";
import { handler } from "./node_routes.mjs";

const path = process.argv[2];
if (!path) throw new Error("usage: node_fastcgi_app <socket path>");
const server = fcgi.createServer(handler);
server.listen(path);
process.once("SIGTERM", () => server.close());
