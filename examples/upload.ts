/**
 * File upload streamed to disk: the request body is written chunk by chunk
 * as FCGI_STDIN records arrive, so a 10 GB upload needs no more memory than
 * a 10 kB one. Each write is awaited before the next chunk is read; while
 * the disk is busy, webfcgi stops reading the socket and the web server
 * waits (backpressure all the way to the client).
 *
 *     UPLOAD_DIR=/srv/uploads MAX_UPLOAD_BYTES=1073741824 \
 *       webfcgi serve examples/upload.ts --listen 127.0.0.1:9000
 *     curl -T big.iso http://localhost/files/big.iso
 *
 * nginx buffers request bodies to a temp file before it calls the app
 * unless told otherwise; to stream, and to allow big bodies:
 *
 *     client_max_body_size 1g;
 *     fastcgi_request_buffering off;
 *
 *   PUT /files/NAME   stores the body as UPLOAD_DIR/NAME (default ./uploads);
 *                     201 with { name, bytes, sha256 }. NAME is letters,
 *                     digits, "._-" (no paths). An existing file is
 *                     replaced only once the new one is complete: the body
 *                     goes to NAME.<random>.part, renamed at the end and
 *                     removed if the upload fails or the client goes away.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import * as path from "node:path";
import process from "node:process";

const UPLOAD_DIR = path.resolve(process.env.UPLOAD_DIR ?? "uploads");
const MAX_BYTES = Number(process.env.MAX_UPLOAD_BYTES ?? 1024 ** 3);
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

class TooLarge extends Error {}

function text(status: number, message: string): Response {
  return new Response(`${message}\n`, { status, headers: { "content-type": "text/plain" } });
}

async function store(request: Request, name: string): Promise<Response> {
  if (!SAFE_NAME.test(name) || name.endsWith(".part")) return text(400, "bad file name");
  // Refuse early when the declared size is already too big.
  if (Number(request.headers.get("content-length") ?? 0) > MAX_BYTES) {
    return text(413, `larger than ${MAX_BYTES} bytes`);
  }
  if (request.body === null) return text(400, "no body");

  await mkdir(UPLOAD_DIR, { recursive: true });
  const target = path.join(UPLOAD_DIR, name);
  const partial = `${target}.${randomUUID()}.part`;
  const file = await open(partial, "wx");
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    const reader = request.body.getReader();
    for (;;) {
      const { value, done } = await reader.read(); // throws if the client went away
      if (done) break;
      bytes += value.length;
      if (bytes > MAX_BYTES) throw new TooLarge(); // no Content-Length, or a wrong one
      hash.update(value);
      // Awaiting the write is what keeps memory flat: the next chunk is
      // read only once this one is with the operating system.
      for (let at = 0; at < value.length;) {
        at += (await file.write(value, at)).bytesWritten;
      }
    }
    await file.close();
    await rename(partial, target);
  } catch (error) {
    await file.close().catch(() => {});
    await rm(partial, { force: true });
    if (error instanceof TooLarge) return text(413, `larger than ${MAX_BYTES} bytes`);
    throw error; // webfcgi answers 500 (or nobody is listening any more)
  }
  const body = JSON.stringify({ name, bytes, sha256: hash.digest("hex") });
  return new Response(body, { status: 201, headers: { "content-type": "application/json" } });
}

function fetch(request: Request): Promise<Response> | Response {
  const { pathname } = new URL(request.url);
  const match = /^\/files\/([^/]+)$/.exec(pathname);
  if (match === null) return text(404, "Not Found");
  if (request.method !== "PUT") {
    return new Response("use PUT\n", { status: 405, headers: { allow: "PUT" } });
  }
  let name: string;
  try {
    name = decodeURIComponent(match[1]);
  } catch {
    return text(400, "bad file name"); // malformed %-escape
  }
  return store(request, name);
}

export default { fetch };
