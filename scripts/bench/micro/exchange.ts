// The whole responder path in one process, without a socket: nginx's bytes
// for a request go into a Connection, the app answers, and the time runs
// until END_REQUEST is written. What is left of the end-to-end CPU per
// request is the socket and the event loop.
import { Connection, type ConnectionOwner } from "../../../src/responder/connection.ts";
import { resolveConfig } from "../../../src/responder/config.ts";
import {
  encodeBeginRequestBody,
  encodePairs,
  encodeRecord,
  encodeStream,
  FCGI_KEEP_CONN,
  RecordType,
  Role,
} from "../../../mod.ts";
import { join } from "../../../src/transport/join.ts";
import type { Conn, ConnHandlers } from "../../../src/transport/types.ts";
import { NGINX_PARAMS } from "./params_fixture.ts";
import type { MicroResult } from "./harness.ts";

/** The bytes nginx sends for a GET (or a POST with `body`) with keep-conn, as one chunk. */
function requestBytes(id: number, params: Record<string, string>, body?: Uint8Array): Uint8Array {
  const parts = [
    encodeRecord(
      RecordType.BEGIN_REQUEST,
      id,
      encodeBeginRequestBody(Role.RESPONDER, FCGI_KEEP_CONN),
    ),
    encodeStream(RecordType.PARAMS, id, encodePairs(Object.entries(params)), true),
    encodeStream(RecordType.STDIN, id, body ?? new Uint8Array(0), true),
  ];
  return join(parts, parts.reduce((n, part) => n + part.length, 0));
}

class FakeConn implements Conn {
  readonly remoteAddr = { transport: "unix" as const, path: "" };
  handlers!: ConnHandlers;
  written = 0;
  onEnd: (() => void) | null = null;
  start(handlers: ConnHandlers): void {
    this.handlers = handlers;
  }
  write(bytes: Uint8Array): boolean {
    this.written += bytes.length;
    // END_REQUEST (type 3) ends a response: the last 16 bytes of the last write.
    if (bytes.length >= 16 && bytes[bytes.length - 15] === RecordType.END_REQUEST) {
      const end = this.onEnd;
      this.onEnd = null;
      end?.();
    }
    return true;
  }
  pause(): void {}
  resume(): void {}
  end(): void {}
  destroy(): void {}
}

const HELLO = "Hello, World!";

/** Requests per second through one Connection for `budgetMs`, one request at a time. */
async function run(
  name: string,
  chunk: Uint8Array,
  handler: (request: Request) => Response | Promise<Response>,
  budgetMs: number,
): Promise<MicroResult> {
  const config = resolveConfig({}, handler, () => 4096);
  const owner: ConnectionOwner = {
    config,
    activeRequests: 0,
    shuttingDown: false,
    now: Date.now(),
    closed() {},
    requestFinished() {},
  };
  const conn = new FakeConn();
  new Connection(conn, owner);
  const one = () =>
    new Promise<void>((resolve) => {
      conn.onEnd = resolve;
      conn.handlers.data(chunk.slice());
    });
  const loop = async (ms: number) => {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      for (let i = 0; i < 100; i++) await one();
      n += 100;
    }
    return { n, ms: performance.now() - start };
  };
  await loop(budgetMs / 4);
  // The best of five slices: the machine's noise only ever adds time.
  let nsPerOp = Infinity;
  let n = 0;
  for (let round = 0; round < 5; round++) {
    const slice = await loop(budgetMs / 5);
    n += slice.n;
    nsPerOp = Math.min(nsPerOp, (slice.ms * 1e6) / slice.n);
  }
  return {
    name,
    unit: "ops",
    opsPerSecond: 1e9 / nsPerOp,
    unitsPerSecond: 1e9 / nsPerOp,
    nsPerOp,
    iterations: n,
  };
}

/** hello, 16 KiB body and 1 MiB upload through a Connection, in process. */
export async function exchangeBenchmarks(budgetMs: number): Promise<MicroResult[]> {
  const get = requestBytes(1, { ...NGINX_PARAMS, REQUEST_URI: "/hello" });
  const post = requestBytes(
    1,
    { ...NGINX_PARAMS, REQUEST_METHOD: "POST", CONTENT_LENGTH: "16384" },
    new Uint8Array(16384),
  );
  return [
    await run(
      "request -> handler -> response (hello, in process)",
      get,
      () => new Response(HELLO, { headers: { "content-type": "text/plain" } }),
      budgetMs,
    ),
    await run("request with a 16 KiB body read by the handler (in process)", post, async (r) => {
      const body = await r.arrayBuffer();
      return new Response(String(body.byteLength));
    }, budgetMs),
  ];
}
