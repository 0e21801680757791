// The fuzz targets and their oracles. Each check returns null when the
// input was handled correctly, else a one-line description of the failure.
//
//   decoder     RecordDecoder, fed the input in its chunks, must agree with
//               an independent reference parse (same records, same error),
//               and throw nothing but FastCGIProtocolError.
//   pairs       decodePairs / decodeBinaryPairs / decodeParams: accept or
//               throw FastCGIProtocolError, agree with each other, round-trip.
//   connection  the whole responder (Connection + Exchange + a handler),
//               in-process over a fake socket: never throws into the socket
//               layer, output well-formed, closes after its deadlines,
//               request counters back to zero once the peer is gone.
//   socket      the same over a real Unix socket to a server started once.
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { setImmediate } from "node:timers";
import { RecordDecoder } from "../../src/protocol/decoder.ts";
import { FastCGIProtocolError } from "../../src/protocol/errors.ts";
import { decodeBinaryPairs, decodePairs, encodePairs } from "../../src/protocol/pairs.ts";
import { resolveConfig, type ServerConfig } from "../../src/responder/config.ts";
import { Connection } from "../../src/responder/connection.ts";
import { decodeParams } from "../../src/responder/params.ts";
import { serveFastCGI } from "../../mod.ts";
import { FakeConn, FakeOwner } from "../support/fake_conn.ts";
import type { FastCGIHandler, FastCGIServer } from "../../mod.ts";
import { chunksOf, concat, type FuzzCase } from "./generate.ts";
import { buildResponse, checkCgiResponse, type ResponseSpec } from "./response.ts";

export type Target = "decoder" | "pairs" | "connection" | "socket" | "response";
export type HandlerKind = "eager" | "echo";
type OutputCheck = HandlerKind | "any";

const latin1 = new TextDecoder("latin1");

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

// --- watching the process: unhandled rejections, uncaught errors, log lines ---

/**
 * Collects unhandled rejections and uncaught exceptions, and the library's
 * log lines (console.error), while a fuzz run is active.
 */
export class ProcessWatch {
  readonly problems: string[] = [];
  logLines = 0;
  readonly recentLogs: string[] = [];
  #originalError = console.error;
  #onRejection = (reason: unknown) =>
    this.problems.push(`unhandled rejection: ${describeError(reason)}`);
  #onException = (error: unknown) =>
    this.problems.push(`uncaught exception: ${describeError(error)}`);

  install(): void {
    process.on("unhandledRejection", this.#onRejection);
    process.on("uncaughtException", this.#onException);
    console.error = (...args: unknown[]) => this.#log(args);
  }

  uninstall(): void {
    process.off("unhandledRejection", this.#onRejection);
    process.off("uncaughtException", this.#onException);
    console.error = this.#originalError;
  }

  #log(args: unknown[]): void {
    this.logLines++;
    const first = String(args[0]);
    const detail = args.length > 1 ? String(args[1]) : "";
    if (this.recentLogs.length >= 20) this.recentLogs.shift();
    this.recentLogs.push(`${first} ${detail.split("\n")[0]}`);
    // Malformed input must close the connection with a typed error.
    if (first.includes("malformed input") && !detail.startsWith("FastCGIProtocolError")) {
      this.problems.push(
        `malformed input closed a connection with an untyped error: ${detail.split("\n")[0]}`,
      );
    }
    if (
      first.includes("handler failed") && detail.includes("TypeError") &&
      !detail.includes("Response")
    ) {
      this.problems.push(
        `a handler failure the fuzz handlers cannot cause: ${detail.split("\n")[0]}`,
      );
    }
  }

  /** Problems since `from`, as one string, or null. */
  since(from: number): string | null {
    return this.problems.length > from ? this.problems.slice(from).join("; ") : null;
  }
}

// --- reference parse of the input ---

interface RefRecord {
  type: number;
  id: number;
  content: Uint8Array;
}

/** Splits a byte stream into records the way the spec reads it. */
export function referenceRecords(
  bytes: Uint8Array,
): { records: RefRecord[]; error: boolean; leftover: number } {
  const records: RefRecord[] = [];
  let at = 0;
  while (bytes.length - at >= 8) {
    if (bytes[at] !== 1) return { records, error: true, leftover: bytes.length - at };
    const total = 8 + ((bytes[at + 4] << 8) | bytes[at + 5]) + bytes[at + 6];
    if (bytes.length - at < total) break;
    const length = (bytes[at + 4] << 8) | bytes[at + 5];
    records.push({
      type: bytes[at + 1],
      id: (bytes[at + 2] << 8) | bytes[at + 3],
      content: bytes.subarray(at + 8, at + 8 + length),
    });
    at += total;
  }
  return { records, error: false, leftover: bytes.length - at };
}

/**
 * What the input asks for, by the reference parse: the ids begun, and
 * whether a request may legitimately keep the connection open, waiting for
 * the web server to send more.
 */
export interface InputFacts {
  begun: Map<number, number>;
  /**
   * Some request has its params but not the end of its STDIN, and the app
   * waits for it: a filter answers only after STDIN ends, and a responder's
   * END_REQUEST follows the end of a body that was announced or started.
   */
  mayWait: boolean;
}

interface ModelRequest {
  role: number;
  params: Uint8Array[];
  paramsBytes: number;
  paramsDone: boolean;
  stdinSeen: boolean;
  stdinEnded: boolean;
}

/** Whether params announce a body (CONTENT_LENGTH > 0 or -1, or a Transfer-Encoding); null if unreadable. */
function announcesBody(blob: Uint8Array): boolean | null {
  const values = new Map<string, string>();
  let at = 0;
  const readLength = (): number | null => {
    if (at >= blob.length) return null;
    if (blob[at] < 0x80) return blob[at++];
    if (blob.length - at < 4) return null;
    const n = (blob[at] & 0x7f) * 0x1000000 + (blob[at + 1] << 16) + (blob[at + 2] << 8) +
      blob[at + 3];
    at += 4;
    return n;
  };
  while (at < blob.length) {
    const nameLength = readLength();
    const valueLength = readLength();
    if (
      nameLength === null || valueLength === null || at + nameLength + valueLength > blob.length
    ) return null;
    const name = latin1.decode(blob.subarray(at, at + nameLength));
    const value = latin1.decode(blob.subarray(at + nameLength, at + nameLength + valueLength));
    at += nameLength + valueLength;
    const previous = values.get(name);
    values.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  const length = values.get("CONTENT_LENGTH");
  return (length !== undefined && /^([1-9]\d*|-1)$/.test(length)) ||
    values.has("HTTP_TRANSFER_ENCODING");
}

export function inputFacts(bytes: Uint8Array): InputFacts {
  const begun = new Map<number, number>();
  const live = new Map<number, ModelRequest>();
  for (const r of referenceRecords(bytes).records) {
    if (r.id === 0) continue;
    const request = live.get(r.id);
    if (r.type === 1) {
      begun.set(r.id, (begun.get(r.id) ?? 0) + 1);
      const role = r.content.length === 8 ? (r.content[0] << 8) | r.content[1] : 0;
      live.set(r.id, {
        role,
        params: [],
        paramsBytes: 0,
        paramsDone: false,
        stdinSeen: false,
        stdinEnded: false,
      });
    } else if (request === undefined) {
      continue;
    } else if (r.type === 2) {
      live.delete(r.id);
    } else if (r.type === 4 && !request.paramsDone) {
      if (r.content.length === 0) request.paramsDone = true;
      else {
        request.params.push(r.content);
        request.paramsBytes += r.content.length;
      }
    } else if (r.type === 5) {
      if (r.content.length === 0) request.stdinEnded = true;
      else request.stdinSeen = true;
    }
  }
  let mayWait = false;
  for (const request of live.values()) {
    if (!request.paramsDone || request.stdinEnded) continue;
    if (request.role === 3) mayWait = true;
    else if (request.role === 1) {
      // Params over the fuzz limit are dropped unread: only STDIN seen counts then.
      const announced = request.paramsBytes > FUZZ_LIMITS.maxParamsBytes
        ? false
        : announcesBody(concat(request.params));
      if (request.stdinSeen || announced !== false) mayWait = true;
    }
  }
  return { begun, mayWait };
}

// --- target: RecordDecoder ---

/** The decoder surface the oracle drives (a test can pass a broken one to see the oracle catch it). */
export interface DecoderLike {
  readonly buffered: number;
  push(
    chunk: Uint8Array,
    onRecord: (record: { type: number; requestId: number; content: Uint8Array }) => void,
  ): void;
}

export function checkDecoder(
  c: Pick<FuzzCase, "bytes" | "splits">,
  make: () => DecoderLike = () => new RecordDecoder(),
): string | null {
  const expected = referenceRecords(c.bytes);
  const decoder = make();
  const got: RefRecord[] = [];
  let threw: unknown = undefined;
  try {
    for (const chunk of chunksOf(c)) {
      decoder.push(
        chunk,
        (r) => got.push({ type: r.type, id: r.requestId, content: r.content.slice() }),
      );
    }
  } catch (error) {
    threw = error ?? "undefined";
  }
  if (threw !== undefined && !(threw instanceof FastCGIProtocolError)) {
    return `RecordDecoder threw ${describeError(threw)}, not a FastCGIProtocolError`;
  }
  if ((threw !== undefined) !== expected.error) {
    return threw !== undefined
      ? `RecordDecoder rejected a stream the reference accepts: ${describeError(threw)}`
      : "RecordDecoder accepted a record with a bad version";
  }
  if (got.length !== expected.records.length) {
    return `RecordDecoder gave ${got.length} records, reference ${expected.records.length}`;
  }
  for (let i = 0; i < got.length; i++) {
    const a = got[i];
    const b = expected.records[i];
    if (a.type !== b.type || a.id !== b.id || !sameBytes(a.content, b.content)) {
      return `record ${i} differs from the reference`;
    }
  }
  if (threw === undefined && decoder.buffered !== expected.leftover) {
    return `RecordDecoder buffered ${decoder.buffered} bytes, expected ${expected.leftover}`;
  }
  return null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// --- target: name-value pairs ---

function outcome(fn: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function checkPairs(
  bytes: Uint8Array,
  valid: Array<[Uint8Array, Uint8Array]> | null = null,
): string | null {
  const text = outcome(() => decodePairs(bytes));
  const binary = outcome(() => decodeBinaryPairs(bytes));
  const params = outcome(() => decodeParams(bytes));
  for (
    const [name, o] of [["decodePairs", text], ["decodeBinaryPairs", binary], [
      "decodeParams",
      params,
    ]] as const
  ) {
    if (!o.ok && !(o.error instanceof FastCGIProtocolError)) {
      return `${name} threw ${describeError(o.error)}, not a FastCGIProtocolError`;
    }
  }
  if (text.ok !== binary.ok || text.ok !== params.ok) {
    return `the decoders disagree: ${text.ok} ${binary.ok} ${params.ok}`;
  }
  if (valid !== null) {
    if (!binary.ok) return `valid pairs rejected: ${describeError(binary.error)}`;
    const got = binary.value as Array<[Uint8Array, Uint8Array]>;
    if (got.length !== valid.length) return `decoded ${got.length} pairs, encoded ${valid.length}`;
    for (let i = 0; i < got.length; i++) {
      if (!sameBytes(got[i][0], valid[i][0]) || !sameBytes(got[i][1], valid[i][1])) {
        return `pair ${i} does not round-trip`;
      }
    }
    // The library's own encoder round-trips too.
    const again = decodeBinaryPairs(encodePairs(valid));
    if (
      again.length !== valid.length ||
      again.some(([n, v], i) => !sameBytes(n, valid[i][0]) || !sameBytes(v, valid[i][1]))
    ) {
      return "encodePairs -> decodeBinaryPairs does not round-trip";
    }
  }
  return null;
}

// --- the output a web server receives ---

const HEADER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [^\r\n]*$/;

function checkCgi(stdout: Uint8Array, handler: HandlerKind): string | null {
  const text = latin1.decode(stdout);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) {
    return `response without the end of its header block: ${JSON.stringify(text.slice(0, 80))}`;
  }
  const lines = text.slice(0, end).split("\r\n");
  const status = /^Status: (\d{3}) [^\r\n]*$/.exec(lines[0]);
  if (status === null) {
    return `response does not start with a Status line: ${JSON.stringify(lines[0])}`;
  }
  for (const line of lines.slice(1)) {
    if (!HEADER_LINE.test(line)) return `malformed header line ${JSON.stringify(line)}`;
  }
  const code = Number(status[1]);
  const body = text.slice(end + 4);
  const bodies: Record<number, RegExp> = {
    200: handler === "eager" ? /^(ok)?$/ : /^(echo \d+ \d+)?$/,
    400: /^(Bad Request\n)?$/,
    431: /^(Request Header Fields Too Large\n)?$/,
  };
  if (handler === "echo") bodies[500] = /^(Internal Server Error\n)?$/;
  const expected = bodies[code];
  if (expected === undefined) return `unexpected status ${code}`;
  if (!expected.test(body)) return `unexpected ${code} body ${JSON.stringify(body.slice(0, 80))}`;
  return null;
}

/**
 * Checks what the app sent on one connection: well-formed aligned records
 * of the types an app may send, only for requests that were begun, at most
 * one END_REQUEST per BEGIN_REQUEST, and sane responses.
 */
export function checkOutput(
  out: Uint8Array,
  facts: InputFacts,
  handler: OutputCheck,
  cutOk: boolean,
): string | null {
  const stdout = new Map<number, Uint8Array[]>();
  const ends = new Map<number, number>();
  let at = 0;
  while (out.length - at >= 8) {
    if (out[at] !== 1) return `the app sent a record with version ${out[at]}`;
    const type = out[at + 1];
    const id = (out[at + 2] << 8) | out[at + 3];
    const length = (out[at + 4] << 8) | out[at + 5];
    const padding = out[at + 6];
    if (out.length - at < 8 + length + padding) break;
    if ((length + padding) % 8 !== 0) {
      return `the app sent a record of ${length}+${padding} bytes (not aligned)`;
    }
    const content = out.subarray(at + 8, at + 8 + length);
    at += 8 + length + padding;
    if (type === 10 || type === 11) {
      if (id !== 0) return `management record type ${type} for id ${id}`;
      if (type === 11 && length !== 8) return "UNKNOWN_TYPE body is not 8 bytes";
      continue;
    }
    if (type !== 3 && type !== 6 && type !== 7) return `the app sent record type ${type}`;
    const begun = facts.begun.get(id) ?? 0;
    if (begun === 0) return `the app sent type ${type} for id ${id}, which was never begun`;
    if ((ends.get(id) ?? 0) >= begun) {
      return `the app sent type ${type} for id ${id} after its END_REQUEST`;
    }
    if (type === 6) {
      if (!stdout.has(id)) stdout.set(id, []);
      stdout.get(id)!.push(content);
    } else if (type === 3) {
      if (length !== 8) return `END_REQUEST body of ${length} bytes`;
      const appStatus = ((content[0] << 24) >>> 0) + (content[1] << 16) + (content[2] << 8) +
        content[3];
      const protocolStatus = content[4];
      if (protocolStatus > 3) return `END_REQUEST protocolStatus ${protocolStatus}`;
      ends.set(id, (ends.get(id) ?? 0) + 1);
      const body = concat(stdout.get(id) ?? []);
      stdout.delete(id);
      if (protocolStatus !== 0 && body.length > 0) {
        return `a refused request (protocolStatus ${protocolStatus}) got STDOUT`;
      }
      if (protocolStatus === 0 && appStatus === 0 && body.length > 0 && handler !== "any") {
        const problem = checkCgi(body, handler);
        if (problem !== null) return `id ${id}: ${problem}`;
      }
    }
  }
  if (at !== out.length && !cutOk) {
    return `the app's output ends in a partial record (${out.length - at} bytes)`;
  }
  return null;
}

// --- handlers ---

const eagerHandler: FastCGIHandler = () => new Response("ok");

const echoHandler: FastCGIHandler = async (request, info) => {
  const body = request.body === null ? 0 : (await request.arrayBuffer()).byteLength;
  let data = 0;
  if (info.data !== null) { for await (const chunk of info.data) data += chunk.length; }
  return new Response(`echo ${body} ${data}`);
};

export const HANDLERS: Record<HandlerKind, FastCGIHandler> = {
  eager: eagerHandler,
  echo: echoHandler,
};

/** Limits for fuzzing: small, so that the timeouts fire within a fuzz run. */
export const FUZZ_LIMITS = { maxParamsBytes: 8192, paramsTimeout: 300, idleTimeout: 300 } as const;

// --- target: the responder in-process ---

const settleTick = () => new Promise<void>((resolve) => setImmediate(resolve));

const configs: Partial<Record<HandlerKind, ServerConfig>> = {};
function configFor(handler: HandlerKind): ServerConfig {
  return configs[handler] ??= resolveConfig({ ...FUZZ_LIMITS }, HANDLERS[handler]);
}

/** Lets handlers and response streams run until the output stops growing. */
async function settle(fake: FakeConn, maxTurns = 20): Promise<void> {
  let last = -1;
  let still = 0;
  for (let i = 0; i < maxTurns && still < 2; i++) {
    await settleTick();
    if (fake.outBytes === last) still++;
    else still = 0;
    last = fake.outBytes;
  }
}

/**
 * The responder in-process: feeds the chunks (yielding to the event loop
 * between them), runs the deadlines, then closes from the peer's side.
 */
export async function checkConnection(
  c: FuzzCase,
  handler: HandlerKind = c.fin ? "echo" : "eager",
): Promise<string | null> {
  const facts = inputFacts(c.bytes);
  const fake = new FakeConn();
  const owner = new FakeOwner(configFor(handler));
  const connection = new Connection(fake, owner);
  const chunks = chunksOf(c);
  for (let i = 0; i < chunks.length; i++) {
    if (fake.ended || fake.closed) break;
    if (fake.paused) {
      await settle(fake);
      if (fake.paused) break; // the app stopped reading: the rest stays in the socket
    }
    try {
      fake.handlers!.data(chunks[i].slice());
    } catch (error) {
      return `the data handler threw into the socket layer: ${describeError(error)}`;
    }
    if (chunks.length > 1 && (i & 7) === 7) await settleTick();
  }
  await settle(fake);
  // Far past every deadline: a connection with nothing legitimately pending must close.
  connection.sweep(Date.now() + 3_600_000);
  await settle(fake);
  if (!fake.ended && !fake.closed && handler === "eager" && !facts.mayWait) {
    return `still open after the params and idle deadlines (active requests: ${connection.activeRequests})`;
  }
  fake.peerClose();
  await settle(fake);
  if (owner.activeRequests !== 0) {
    return `${owner.activeRequests} requests still counted active after the connection closed`;
  }
  if (owner.closedCount !== 1) return `the server was told of ${owner.closedCount} closes`;
  if (connection.activeRequests !== 0) {
    return `the connection still holds ${connection.activeRequests} requests`;
  }
  return checkOutput(concat(fake.out), facts, handler, fake.destroyed);
}

// --- target: what handlers return ---

let currentSpec: ResponseSpec | null = null;
const responseConfig = resolveConfig({ ...FUZZ_LIMITS }, () => buildResponse(currentSpec!));

function requestFor(spec: ResponseSpec): Uint8Array {
  const record = (type: number, content: Uint8Array) => {
    const pad = (8 - (content.length % 8)) % 8;
    const out = new Uint8Array(8 + content.length + pad);
    out.set([1, type, 0, 1, content.length >> 8, content.length & 255, pad, 0]);
    out.set(content, 8);
    return out;
  };
  const params: Array<[string, string]> = [
    ["REQUEST_METHOD", spec.method],
    ["REQUEST_URI", "/fuzz"],
    ["HTTP_HOST", "example.test"],
  ];
  const blob = concat(
    params.map(([n, v]) =>
      concat([new Uint8Array([n.length, v.length]), enc.encode(n), enc.encode(v)])
    ),
  );
  return concat([
    record(1, new Uint8Array([0, spec.role, 0, 0, 0, 0, 0, 0])),
    record(4, blob),
    record(4, new Uint8Array(0)),
    record(5, new Uint8Array(0)),
  ]);
}

/**
 * The responder in-process with a handler returning what `spec` describes:
 * the request must end (the connection closes, FCGI_KEEP_CONN being clear)
 * with one END_REQUEST and a well-formed CGI response.
 */
export async function checkResponse(spec: ResponseSpec): Promise<string | null> {
  currentSpec = spec;
  const fake = new FakeConn();
  const owner = new FakeOwner(responseConfig);
  new Connection(fake, owner);
  fake.handlers!.data(requestFor(spec));
  await settle(fake, 50);
  for (let i = 0; i < 20 && !fake.ended && !fake.closed; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (!fake.ended && !fake.closed) {
    fake.peerClose();
    return `hang: the request did not end (output so far: ${fake.outBytes} bytes)`;
  }
  fake.peerClose();
  if (owner.activeRequests !== 0) return `${owner.activeRequests} requests still counted active`;
  const out = concat(fake.out);
  const facts: InputFacts = { begun: new Map([[1, 1]]), mayWait: false };
  const records = referenceRecords(out).records;
  const ends = records.filter((x) => x.type === 3);
  if (ends.length !== 1) return `${ends.length} END_REQUEST records`;
  if (ends[0].content[4] !== 0) return `protocolStatus ${ends[0].content[4]}`;
  const structure = checkOutputStructure(out, facts);
  if (structure !== null) return structure;
  return checkCgiResponse(concat(records.filter((x) => x.type === 6).map((x) => x.content)), spec);
}

/** Record-level checks only (framing, types, ids), without judging the CGI response. */
function checkOutputStructure(out: Uint8Array, facts: InputFacts): string | null {
  return checkOutput(out, facts, "any", false);
}

// --- target: the responder over a real socket ---

/** How long a connection may stay open after the input when nothing is pending. */
export const STALL_BOUND_MS = 4000;
/** How long a connection may stay open after the web server's FIN. */
export const FIN_BOUND_MS = 3000;

interface SocketResult {
  out: Uint8Array;
  closed: boolean;
}

function connectUnix(file: string, ms: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path: file });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${ms} ms`));
    }, ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A server for the socket target, started once, on a Unix socket. */
export class SocketFuzzer {
  readonly servers: Record<HandlerKind, { server: FastCGIServer; path: string }>;
  readonly dir: string;
  inputs = 0;

  private constructor(
    dir: string,
    servers: Record<HandlerKind, { server: FastCGIServer; path: string }>,
  ) {
    this.dir = dir;
    this.servers = servers;
  }

  static async start(): Promise<SocketFuzzer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webfcgi-fuzz-"));
    const servers = {} as Record<HandlerKind, { server: FastCGIServer; path: string }>;
    for (const kind of ["eager", "echo"] as const) {
      const file = path.join(dir, `${kind}.sock`);
      const server = serveFastCGI({ path: file, onListen() {}, ...FUZZ_LIMITS }, HANDLERS[kind]);
      await server.listening;
      servers[kind] = { server, path: file };
    }
    return new SocketFuzzer(dir, servers);
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.servers).map(({ server }) => server.shutdown()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Sends one case on a fresh connection and checks what happens. */
  async run(c: FuzzCase): Promise<string | null> {
    this.inputs++;
    const handler: HandlerKind = c.fin ? "echo" : "eager";
    const facts = inputFacts(c.bytes);
    const socket = await connectUnix(this.servers[handler].path, 3000);
    const received: Uint8Array[] = [];
    let closed = false;
    let wake: () => void = () => {};
    socket.on("data", (chunk: Uint8Array) => received.push(new Uint8Array(chunk)));
    socket.on("error", () => {});
    socket.on("close", () => {
      closed = true;
      wake();
    });
    const waitClose = (ms: number) =>
      closed ? Promise.resolve(true) : new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(closed), ms);
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
    const chunks = chunksOf(c);
    for (let i = 0; i < chunks.length && !closed; i++) {
      socket.write(chunks[i]);
      if (chunks.length > 1) await settleTick();
    }
    let result: SocketResult;
    try {
      if (c.fin) {
        socket.end();
        if (!(await waitClose(FIN_BOUND_MS))) {
          return `not closed ${FIN_BOUND_MS} ms after the web server's FIN`;
        }
      } else if (!(await waitClose(STALL_BOUND_MS))) {
        if (!facts.mayWait) {
          return `hang: neither closed nor finished ${STALL_BOUND_MS} ms after the input`;
        }
        socket.end();
        if (!(await waitClose(FIN_BOUND_MS))) {
          return `a waiting filter request: not closed ${FIN_BOUND_MS} ms after the web server's FIN`;
        }
      }
      result = { out: concat(received), closed };
    } finally {
      socket.destroy();
    }
    return checkOutput(result.out, facts, handler, true);
  }

  /** A well-formed request on a fresh connection to each server gets its 200. */
  async healthy(): Promise<string | null> {
    for (const kind of ["eager", "echo"] as const) {
      const socket = await connectUnix(this.servers[kind].path, 3000).catch((e) => e as Error);
      if (socket instanceof Error) {
        return `healthy request: cannot connect to the ${kind} server: ${socket.message}`;
      }
      const received: Uint8Array[] = [];
      socket.on("data", (chunk: Uint8Array) => received.push(new Uint8Array(chunk)));
      socket.on("error", () => {});
      const done = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 3000);
        socket.on("close", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      socket.write(healthyRequest(kind));
      const ok = await done;
      socket.destroy();
      if (!ok) return `healthy request to the ${kind} server: no complete reply within 3 s`;
      const out = concat(received);
      const facts: InputFacts = { begun: new Map([[1, 1]]), mayWait: false };
      const problem = checkOutput(out, facts, kind, false);
      if (problem !== null) return `healthy request to the ${kind} server: ${problem}`;
      const text = latin1.decode(
        concat(referenceRecords(out).records.filter((x) => x.type === 6).map((x) => x.content)),
      );
      const want = kind === "eager" ? "\r\n\r\nok" : "\r\n\r\necho 5 0";
      if (!text.startsWith("Status: 200 ") || !text.endsWith(want)) {
        return `healthy request to the ${kind} server: not a 200 with the right body: ${
          JSON.stringify(text)
        }`;
      }
    }
    return null;
  }
}

const enc = new TextEncoder();

/** A complete, well-formed request (FCGI_KEEP_CONN clear), encoded independently. */
function healthyRequest(kind: HandlerKind): Uint8Array {
  const record = (type: number, content: Uint8Array) => {
    const pad = (8 - (content.length % 8)) % 8;
    const out = new Uint8Array(8 + content.length + pad);
    out.set([1, type, 0, 1, content.length >> 8, content.length & 255, pad, 0]);
    out.set(content, 8);
    return out;
  };
  const params: Array<[string, string]> = [
    ["REQUEST_METHOD", kind === "eager" ? "GET" : "POST"],
    ["REQUEST_URI", "/healthy"],
    ["HTTP_HOST", "example.test"],
    ["CONTENT_LENGTH", kind === "eager" ? "" : "5"],
  ];
  const blob = concat(
    params.map(([n, v]) =>
      concat([new Uint8Array([n.length, v.length]), enc.encode(n), enc.encode(v)])
    ),
  );
  return concat([
    record(1, new Uint8Array([0, 1, 0, 0, 0, 0, 0, 0])),
    record(4, blob),
    record(4, new Uint8Array(0)),
    ...(kind === "echo" ? [record(5, enc.encode("hello"))] : []),
    record(5, new Uint8Array(0)),
  ]);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}
