/**
 * A PHP application behind webfcgi's FastCGI client: this app forwards
 * every request to PHP-FPM and streams PHP's answer back. Under
 * `webfcgi dev` that is a PHP site on http://127.0.0.1:8080/ without nginx:
 *
 *     PHP_FPM=unix:/run/php/php8.2-fpm.sock PHP_ROOT=examples/php \
 *       webfcgi dev examples/php_proxy.ts --port 8080
 *     curl http://127.0.0.1:8080/server?x=1
 *
 * Under `webfcgi serve` behind a web server it is TypeScript in front of
 * PHP: add auth, rewrites or caching here and let PHP do the rest.
 *
 * PHP_FPM is the pool's address (`unix:/path` or `host:port`, default
 * unix:/run/php/php8.2-fpm.sock; the pool's `listen.owner`/`listen.mode`
 * must let this process connect). PHP_ROOT is the application's folder
 * (default ./examples/php); every request runs its index.php, the way
 * nginx's `try_files $uri /index.php?$query_string` routes a front
 * controller.
 */
import * as path from "node:path";
import process from "node:process";
import { FastCGIClient, type FastCGIInfo } from "../mod.ts"; // in your app: "@webfcgi/webfcgi"

const PHP_ROOT = path.resolve(process.env.PHP_ROOT ?? "examples/php");

// One pooled client for the whole app. bufferBody: PHP-FPM reads a body
// only with a CONTENT_LENGTH, so a chunked upload is read into memory
// first (bodies with a Content-Length stream straight through).
const php = new FastCGIClient(process.env.PHP_FPM ?? "unix:/run/php/php8.2-fpm.sock", {
  bufferBody: true,
  maxConnections: 4, // at most the pool's pm.max_children
  idleTimeout: 1000, // idle connections do not hold the process open long after shutdown
});

function fetch(request: Request, info: FastCGIInfo): Promise<Response> {
  // The client derives REQUEST_METHOD, REQUEST_URI, QUERY_STRING, HTTP_* and
  // CONTENT_* from the Request, as nginx's fastcgi_params do; the rest is
  // where the script is and who asked.
  return php.fetch(request, {
    params: {
      DOCUMENT_ROOT: PHP_ROOT,
      SCRIPT_FILENAME: path.join(PHP_ROOT, "index.php"),
      SCRIPT_NAME: "/index.php",
      REMOTE_ADDR: info.params.REMOTE_ADDR ?? "127.0.0.1",
      REMOTE_PORT: info.params.REMOTE_PORT ?? "0",
      ...(info.params.HTTPS ? { HTTPS: info.params.HTTPS } : {}),
    },
  });
}

export default { fetch };
