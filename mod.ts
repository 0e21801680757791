/**
 * webfcgi: a web-standard FastCGI runtime for Deno, Bun and Node.
 *
 * A FastCGI application is a plain fetch handler: every FastCGI request
 * arrives as a standard `Request`, and the `Response` it returns goes back
 * to the web server (nginx, Apache, lighttpd, Caddy, HAProxy, h2o) as
 * FastCGI records.
 *
 * @example
 * ```ts
 * import { serveFastCGI } from "@webfcgi/webfcgi";
 *
 * const server = serveFastCGI({ port: 0, onListen() {} }, (request, info) => {
 *   return new Response(`hello from ${info.role}: ${new URL(request.url).pathname}`);
 * });
 * await server.shutdown();
 * ```
 * @module
 */

export * from "./src/protocol/constants.ts";
export * from "./src/protocol/errors.ts";
export * from "./src/protocol/record.ts";
export * from "./src/protocol/decoder.ts";
export * from "./src/protocol/pairs.ts";
export * from "./src/protocol/bodies.ts";
export { serveFastCGI } from "./src/responder/server.ts";
export type {
  FastCGIHandler,
  FastCGIInfo,
  FastCGIServeInit,
  FastCGIServeOptions,
  FastCGIServer,
} from "./src/responder/types.ts";
export type { Params } from "./src/responder/params.ts";
export { FastCGIRequestError } from "./src/responder/request_error.ts";
export { FastCGIAbortError } from "./src/responder/abort_error.ts";
export type { Addr, NetAddr, UnixAddr } from "./src/transport/types.ts";
export { UnixSocketError } from "./src/transport/unix_socket.ts";
export type { ProbeResult } from "./src/transport/socket_probe.ts";
export { FastCGIClient, type FastCGIFetchInit, fetchFastCGI } from "./src/client/client.ts";
export type {
  FastCGIAddress,
  FastCGIClientOptions,
  FastCGIRequestInit,
} from "./src/client/types.ts";
export {
  FastCGICantMultiplexError,
  FastCGIClientError,
  FastCGIConnectionError,
  FastCGIOverloadedError,
  FastCGIResponseError,
  FastCGIUnknownRoleError,
} from "./src/client/errors.ts";
