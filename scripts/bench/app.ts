/**
 * The benchmark app: a plain fetch handler, the same for webfcgi (FastCGI)
 * and for Deno.serve / Bun.serve (the proxy_pass peers).
 *
 *   GET  /hello      13 bytes of text
 *   GET  /1m         1 MiB of bytes (new Response(bytes): the runtime copies them)
 *   GET  /1m-static  the same 1 MiB as a stream of the app's own buffer (no copy)
 *   POST /upload     reads the body, answers with its byte count
 *   GET  /stream16k  16 KiB as 8 chunks of 2 KiB from a ReadableStream
 */

const HELLO = "Hello, World!";
const ONE_MIB = new Uint8Array(1 << 20).fill(0x78);
const CHUNK = new Uint8Array(2048).fill(0x79);
const CHUNKS = 8;

async function countBody(request: Request): Promise<number> {
  if (request.body === null) return 0;
  let bytes = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.length;
  }
}

/** `bytes` as a body without the copy new Response(bytes) makes: nothing writes to them. */
function staticBytes(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function stream16k(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(CHUNK);
      if (++sent === CHUNKS) controller.close();
    },
  });
}

async function fetch(request: Request): Promise<Response> {
  switch (new URL(request.url).pathname) {
    case "/hello":
      return new Response(HELLO, { headers: { "content-type": "text/plain" } });
    case "/1m":
      return new Response(ONE_MIB, { headers: { "content-type": "application/octet-stream" } });
    case "/1m-static":
      return new Response(staticBytes(ONE_MIB), {
        headers: { "content-type": "application/octet-stream" },
      });
    case "/upload":
      return new Response(String(await countBody(request)));
    case "/stream16k":
      return new Response(stream16k(), {
        headers: { "content-type": "application/octet-stream" },
      });
    default:
      return new Response("Not Found\n", { status: 404 });
  }
}

export default { fetch };
