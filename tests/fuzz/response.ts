// The response side of the responder: what a handler may hand back. Real
// `Response` objects and Response-like objects (a framework's own class, a
// plain object) with odd statuses, header names and values carrying CR/LF,
// NUL or characters above U+00FF, headers as Headers, Map, arrays or plain
// objects, and bodies that are streams, strings, or streams of non-bytes.
// The check: the web server only ever gets a well-formed CGI response (a
// Status line in 200-599, header lines that are `token: value` with no raw
// CR/LF), and the request always ends.
import type { Prng } from "./prng.ts";
import { concat } from "./generate.ts";

/** JSON-safe description of what the handler returns (replayable as a fixture). */
export interface ResponseSpec {
  form: "web" | "like";
  /** A number, or one of the values JSON cannot carry. */
  status: number | "NaN" | "Infinity" | "-Infinity" | "string" | "undefined";
  statusText: string;
  headersForm: "Headers" | "Map" | "array" | "record" | "throwing-iterable" | "no-iterator";
  headers: Array<[string, string]>;
  body:
    | { form: "none" }
    | { form: "string-not-stream" }
    | {
      form: "stream";
      chunks: Array<{ bytes: string } | { text: string } | { number: number } | { error: string }>;
    };
  method: "GET" | "HEAD" | "POST";
  role: 1 | 2;
}

const NAMES = [
  "content-type",
  "x-ok",
  "Set-Cookie",
  "set-cookie",
  "location",
  "X-Mixed-Case",
  "status",
  "content-length",
  "transfer-encoding",
  "connection",
  "variable-user",
  "a b",
  "a:b",
  "a\r\nInjected",
  "\n",
  "",
  "x\u0000y",
  "\u00e9",
  "\u010ax",
  ":",
  "x".repeat(70000),
];
const VALUES = [
  "text/plain",
  "ok",
  "a=1; Path=/",
  "b=2",
  "a\r\nInjected: 1",
  "a\rb",
  "a\nb",
  "a\u0000b",
  "\u010d\u010aInjected: 1",
  "caf\u00e9",
  "\u2603",
  "\t tabbed \t",
  " ",
  "",
  "v".repeat(70000),
  "http://evil.test",
];
const STATUSES: Array<ResponseSpec["status"]> = [
  200,
  200,
  200,
  201,
  204,
  301,
  304,
  404,
  500,
  503,
  599,
  600,
  1000,
  99,
  100,
  101,
  199,
  0,
  -1,
  200.5,
  65536 + 200,
  "NaN",
  "Infinity",
  "-Infinity",
  "string",
  "undefined",
];
const TEXTS = [
  "",
  "OK",
  "Custom Reason",
  "a\r\nInjected: 1",
  "\u0000",
  "caf\u00e9",
  "\u2603",
  "x".repeat(300),
];

function randomString(r: Prng, max: number): string {
  const n = r.size(max);
  let out = "";
  for (let i = 0; i < n; i++) {
    out += String.fromCharCode(
      r.pick([
        0,
        9,
        10,
        13,
        32,
        58,
        65,
        97,
        0x7f,
        0x80,
        0xe9,
        0xff,
        0x100,
        0x10a,
        0x10d,
        0x2603,
        0x30 + r.int(10),
        0x61 + r.int(26),
      ]),
    );
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export function generateResponse(r: Prng): ResponseSpec {
  const headers: Array<[string, string]> = [];
  for (let n = r.size(6); n > 0; n--) {
    headers.push([
      r.chance(0.8) ? r.pick(NAMES) : randomString(r, 12),
      r.chance(0.7) ? r.pick(VALUES) : randomString(r, 40),
    ]);
  }
  const chunks: Array<
    { bytes: string } | { text: string } | { number: number } | { error: string }
  > = [];
  for (let n = r.size(5); n > 0; n--) {
    const k = r.int(20);
    if (k < 14) chunks.push({ bytes: hex(r.bytes(r.chance(0.05) ? 70000 : r.size(200))) });
    else if (k < 17) chunks.push({ text: randomString(r, 20) });
    else if (k < 18) chunks.push({ number: r.int(1000) });
    else chunks.push({ error: "s3cret /srv/app/handler.ts:12" });
  }
  const bodyDraw = r.int(10);
  return {
    form: r.chance(0.5) ? "web" : "like",
    status: r.pick(STATUSES),
    statusText: r.chance(0.7) ? r.pick(TEXTS) : randomString(r, 20),
    headersForm: r.pick(
      [
        "Headers",
        "Headers",
        "Map",
        "Map",
        "array",
        "record",
        "throwing-iterable",
        "no-iterator",
      ] as const,
    ),
    headers,
    body: bodyDraw < 2
      ? { form: "none" }
      : bodyDraw < 3
      ? { form: "string-not-stream" }
      : { form: "stream", chunks },
    method: r.pick(["GET", "GET", "HEAD", "POST"] as const),
    role: r.chance(0.9) ? 1 : 2,
  };
}

function statusValue(status: ResponseSpec["status"]): unknown {
  switch (status) {
    case "NaN":
      return NaN;
    case "Infinity":
      return Infinity;
    case "-Infinity":
      return -Infinity;
    case "string":
      return "200";
    case "undefined":
      return undefined;
    default:
      return status;
  }
}

function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bodyStream(spec: ResponseSpec): ReadableStream<unknown> | null | string {
  const body = spec.body;
  if (body.form === "none") return null;
  if (body.form === "string-not-stream") return "a string where a stream belongs";
  let i = 0;
  return new ReadableStream<unknown>({
    pull(controller) {
      if (i >= body.chunks.length) return controller.close();
      const chunk = body.chunks[i++];
      if ("bytes" in chunk) controller.enqueue(fromHex(chunk.bytes));
      else if ("text" in chunk) controller.enqueue(chunk.text);
      else if ("number" in chunk) controller.enqueue(chunk.number);
      else controller.error(new Error(chunk.error));
    },
  });
}

function headersValue(spec: ResponseSpec): unknown {
  const list = spec.headers;
  switch (spec.headersForm) {
    case "Headers": {
      // Web Headers refuses invalid names and values: those are dropped here,
      // as a handler building Headers would have thrown.
      const headers = new Headers();
      for (const [name, value] of list) {
        try {
          headers.append(name, value);
        } catch {
          // invalid for web Headers
        }
      }
      return headers;
    }
    case "Map":
      return new Map(list);
    case "array":
      return list.map(([n, v]) => [n, v]);
    case "record":
      return Object.fromEntries(list);
    case "throwing-iterable":
      return {
        [Symbol.iterator]() {
          throw new Error("s3cret iterator failure");
        },
      };
    case "no-iterator":
      return { get: () => null };
  }
}

/**
 * What the handler returns for `spec`. A "web" Response that the
 * constructor refuses makes the handler throw, as it would in an app.
 */
export function buildResponse(spec: ResponseSpec): Response {
  const status = statusValue(spec.status);
  const body = bodyStream(spec);
  const headers = headersValue(spec);
  if (spec.form === "web") {
    return new Response(body as BodyInit | null, {
      status: status as number,
      statusText: spec.statusText,
      headers: spec.headersForm === "Headers"
        ? headers as Headers
        : spec.headersForm === "array" || spec.headersForm === "record"
        ? headers as HeadersInit
        : undefined,
    });
  }
  return { status, statusText: spec.statusText, headers, body, ok: true } as unknown as Response;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ([^\r\n]*)$/;

// Header names the library never sends (framing, CGI's own Status).
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "status",
]);

/**
 * The header lines would not fit one STDOUT record (65528 bytes): the
 * library answers 500 rather than split the block (HAProxy 2.6.12 crashes
 * on a split one). The drawn headers are tiny or 70000 bytes, so the
 * status line's few bytes do not matter.
 */
function headTooBig(spec: ResponseSpec): boolean {
  const entries = spec.headersForm === "Headers"
    ? [...(headersValue(spec) as Headers)]
    : spec.headersForm === "Map"
    ? [...new Map(spec.headers)]
    : spec.headers;
  let size = 0;
  for (const [name, value] of entries) {
    if (!DROPPED.has(name.toLowerCase())) size += name.length + value.length + 4;
  }
  return size > 65528;
}

/**
 * An Authorizer's first record's worth of body is read before anything is
 * sent (mod_authnz_fcgi keeps only body bytes in the header's record), so a
 * bad chunk or a stream error there still turns the answer into a 500.
 */
function authorizerBodyFails(spec: ResponseSpec, status: number): boolean {
  if (spec.role !== 2 || spec.method === "HEAD" || spec.body.form !== "stream") return false;
  if (status === 204 || status === 304 || status < 200) return false;
  let size = 0;
  for (const chunk of spec.body.chunks) {
    if ("number" in chunk || "error" in chunk) return true;
    size += "bytes" in chunk ? chunk.bytes.length / 2 : new TextEncoder().encode(chunk.text).length;
    if (size >= 60000) return false;
  }
  return false;
}

/** Status the web server must see: the handler's if it is a valid one, else 500. */
export function expectedStatus(spec: ResponseSpec): number | null {
  const status = expectedHandlerStatus(spec);
  return status !== null && status !== 500 && authorizerBodyFails(spec, status) ? 500 : status;
}

function expectedHandlerStatus(spec: ResponseSpec): number | null {
  const status = statusValue(spec.status);
  const validStatus = typeof status === "number" && Number.isInteger(status) && status >= 200 &&
    status <= 599;
  if (spec.form === "web") {
    // The Response constructor decides; a throw means 500. Which header
    // lists it accepts is the runtime's business: don't predict those.
    // Its status goes through WebIDL's unsigned short conversion first.
    const n = status === undefined ? 200 : Number(status);
    const web = Number.isFinite(n) ? ((Math.trunc(n) % 65536) + 65536) % 65536 : 0;
    if (web < 200 || web > 599) return 500;
    if (web !== status) return null;
    if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(spec.statusText)) return null;
    if (spec.headersForm !== "Headers" && spec.headers.length > 0) return null;
    if (
      spec.body.form !== "none" && (status === 204 || status === 304 || (status as number) < 200)
    ) return null;
    return headTooBig(spec) ? 500 : status as number;
  }
  if (!validStatus) return 500;
  if (
    spec.headersForm === "throwing-iterable" || spec.headersForm === "no-iterator" ||
    spec.headersForm === "record"
  ) return 500;
  if (spec.body.form === "string-not-stream") return 500;
  if (spec.headersForm === "Headers") return headTooBig(spec) ? 500 : status as number;
  for (const [name, value] of spec.headersForm === "Map" ? new Map(spec.headers) : spec.headers) {
    if (!TOKEN.test(name) || /[\0\r\n]|[^\0-\u00ff]/.test(value)) return 500;
  }
  return headTooBig(spec) ? 500 : status as number;
}

/** Checks one response's STDOUT (the CGI response the web server parses). */
export function checkCgiResponse(stdout: Uint8Array, spec: ResponseSpec): string | null {
  const text = new TextDecoder("latin1").decode(stdout);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return `no end of the header block in ${JSON.stringify(text.slice(0, 120))}`;
  const lines = text.slice(0, end).split("\r\n");
  const status = /^Status: (\d{3}) ([^\r\n]*)$/.exec(lines[0]);
  if (status === null) {
    return `first line is not a Status line: ${JSON.stringify(lines[0].slice(0, 120))}`;
  }
  const code = Number(status[1]);
  if (code < 200 || code > 599) return `status ${code} emitted`;
  for (const line of lines.slice(1)) {
    const m = HEADER_LINE.exec(line);
    if (m === null) return `malformed header line ${JSON.stringify(line.slice(0, 120))}`;
    if (m[1].toLowerCase() === "injected") {
      return `an injected header line: ${JSON.stringify(line)}`;
    }
    if (m[1].toLowerCase() === "status") {
      return `a second Status line: ${JSON.stringify(line.slice(0, 120))}`;
    }
  }
  if (/s3cret|\.ts:\d+|\bat \S+ \(/.test(text)) return "error details reached the client";
  const expected = expectedStatus(spec);
  if (expected !== null && code !== expected) return `status ${code}, expected ${expected}`;
  return null;
}

export { concat };
