/**
 * A FastCGI Filter: the web server sends the app a file as FCGI_DATA (after
 * the request's params and body) and sends the client what the app makes of
 * it. This one turns a plain-text file into an HTML page, streaming: the
 * page starts to leave before the whole file has arrived, so file size does
 * not matter.
 *
 *     webfcgi serve examples/filter.ts --listen 127.0.0.1:9000
 *
 * The filter gets the file through `info.data` and its metadata as params:
 * FCGI_DATA_LAST_MOD (seconds since the epoch) and FCGI_DATA_LENGTH.
 * The Filter role is in the FastCGI spec, and webfcgi serves it, but the
 * common web servers (nginx, Apache, lighttpd, Caddy, HAProxy, h2o) only
 * send Responder requests (lighttpd and Apache also Authorizer): a filter
 * is for a front end that speaks the role itself, such as a custom proxy
 * built on webfcgi's client, or libfcgi-based servers.
 */
import type { FastCGIInfo } from "../mod.ts"; // in your app: "@webfcgi/webfcgi"

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** Bytes of UTF-8 text in, escaped HTML out, wrapped in a page. */
function textToHtml(title: string): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder(); // keeps a character split across records whole
  const encoder = new TextEncoder();
  return new TransformStream({
    start(controller) {
      controller.enqueue(encoder.encode(
        `<!doctype html>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n<pre>`,
      ));
    },
    transform(chunk, controller) {
      const text = decoder.decode(chunk, { stream: true });
      if (text !== "") controller.enqueue(encoder.encode(escapeHtml(text)));
    },
    flush(controller) {
      controller.enqueue(encoder.encode(`${escapeHtml(decoder.decode())}</pre>\n`));
    },
  });
}

function fetch(request: Request, info: FastCGIInfo): Response {
  if (info.role !== "filter" || info.data === null) {
    return new Response("This app is a FastCGI Filter; configure it as one.\n", { status: 500 });
  }
  const headers = new Headers({ "content-type": "text/html; charset=utf-8" });
  const lastModified = Number(info.params.FCGI_DATA_LAST_MOD);
  if (Number.isInteger(lastModified) && lastModified > 0) {
    headers.set("last-modified", new Date(lastModified * 1000).toUTCString());
  }
  const title = new URL(request.url).pathname.split("/").pop() || "untitled";
  return new Response(info.data.pipeThrough(textToHtml(title)), { headers });
}

export default { fetch };
