// The load cases: what wrk asks for, and what a correct answer looks like
// (checked once per contender before any timing).
import * as path from "node:path";

const MIB = 1 << 20;

/**
 * @typedef {{ id: string, label: string, path: string, method: string, script?: string,
 *   bytes: number, expect: (status: number, body: Uint8Array) => string | null }} Case
 */

const sized = (size) => (status, body) =>
  status !== 200
    ? `status ${status}`
    : body.length !== size
    ? `${body.length} bytes, want ${size}`
    : null;

/** @returns {Case[]} */
export function cases(benchDir) {
  return [
    {
      id: "hello",
      label: "hello (13 B)",
      path: "/hello",
      method: "GET",
      bytes: 13,
      expect: sized(13),
    },
    {
      id: "1m",
      label: "1 MiB download",
      path: "/1m",
      method: "GET",
      bytes: MIB,
      expect: sized(MIB),
    },
    {
      // The same bytes handed over without a copy per request, as Go's
      // handler, PHP's echo and node:http's res.end() do: the Fetch standard
      // makes new Response(bytes) copy them, in the app, before webfcgi sees
      // the Response (app.ts serves this one as a stream of its own buffer).
      id: "1m-static",
      label: "1 MiB download, no copy per request",
      path: "/1m-static",
      method: "GET",
      bytes: MIB,
      expect: sized(MIB),
    },
    {
      id: "upload",
      label: "1 MiB upload",
      path: "/upload",
      method: "POST",
      script: path.join(benchDir, "upload.lua"),
      bytes: MIB,
      expect: (status, body) => {
        const text = new TextDecoder().decode(body).trim();
        return status !== 200
          ? `status ${status}`
          : text !== String(MIB)
          ? `answered ${JSON.stringify(text.slice(0, 40))}`
          : null;
      },
    },
    {
      id: "stream16k",
      label: "16 KiB streamed (8 chunks)",
      path: "/stream16k",
      method: "GET",
      bytes: 16384,
      expect: sized(16384),
    },
  ];
}

/** One request as wrk would send it; returns null when the answer is right, else what is wrong. */
export async function checkCase(port, kase) {
  const init = { method: kase.method, signal: AbortSignal.timeout(10000) };
  if (kase.method === "POST") {
    init.body = new Uint8Array(MIB).fill(0x78);
    init.headers = { "content-type": "application/octet-stream" };
  }
  try {
    const response = await fetch(`http://127.0.0.1:${port}${kase.path}`, init);
    return kase.expect(response.status, new Uint8Array(await response.arrayBuffer()));
  } catch (error) {
    return String(error?.cause?.message ?? error?.message ?? error);
  }
}
