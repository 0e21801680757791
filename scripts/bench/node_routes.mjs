// The bench routes on Node's (req, res) API, shared by node:http and
// node-fastcgi (a drop-in for node:http's server side).
const HELLO = "Hello, World!";
const ONE_MIB = Buffer.alloc(1 << 20, 0x78);
const CHUNK = Buffer.alloc(2048, 0x79);
const CHUNKS = 8;

/** @param {import("node:http").IncomingMessage} req @param {import("node:http").ServerResponse} res */
export function handler(req, res) {
  const path = (req.url ?? "/").split("?")[0];
  switch (path) {
    case "/hello":
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(HELLO);
      return;
    case "/1m":
    case "/1m-static":
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(ONE_MIB);
      return;
    case "/upload": {
      let bytes = 0;
      req.on("data", (chunk) => (bytes += chunk.length));
      req.on("end", () => res.end(String(bytes)));
      return;
    }
    case "/stream16k": {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      let sent = 0;
      const next = () => {
        if (sent++ === CHUNKS) return res.end();
        // Each chunk waits for the previous write, as a ReadableStream's pull would.
        res.write(CHUNK, next);
      };
      next();
      return;
    }
    default:
      res.writeHead(404);
      res.end("Not Found\n");
  }
}
