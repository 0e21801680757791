// Fuzz inputs: what a (broken or hostile) web server could send on one
// connection. Built from records so that mutations can target the framing
// (lengths, types, ids, order) as well as raw bytes. The encoders here are
// written apart from src/protocol on purpose.
import type { Prng } from "./prng.ts";

/** One input: bytes sent on a fresh connection, in chunks ending at `splits`. */
export interface FuzzCase {
  /** Which generator made it (and which mutations were applied). */
  kind: string;
  bytes: Uint8Array;
  /** Chunk end offsets, ascending, each in (0, bytes.length). */
  splits: number[];
  /** True: the web server half-closes after sending (else it waits silently). */
  fin: boolean;
}

/** A record before serialization; `declared` overrides the content length field. */
export interface Rec {
  type: number;
  id: number;
  content: Uint8Array;
  padding: number;
  version?: number;
  declared?: number;
  /** A state marker used by the type-in-every-state generator. */
  phase?: Phase;
}

export type Phase =
  | "begin"
  | "params"
  | "params-end"
  | "stdin"
  | "stdin-end"
  | "data"
  | "data-end"
  | "mgmt";

export const T = {
  BEGIN: 1,
  ABORT: 2,
  END: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11,
} as const;

const enc = new TextEncoder();
const EMPTY = new Uint8Array(0);

export function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Serializes records; padding bytes are zeros unless `r` is given. */
export function serialize(records: Rec[], r?: Prng): Uint8Array {
  let size = 0;
  for (const rec of records) size += 8 + rec.content.length + rec.padding;
  const out = new Uint8Array(size);
  let at = 0;
  for (const rec of records) {
    const declared = rec.declared ?? rec.content.length;
    out[at] = rec.version ?? 1;
    out[at + 1] = rec.type;
    out[at + 2] = (rec.id >>> 8) & 0xff;
    out[at + 3] = rec.id & 0xff;
    out[at + 4] = (declared >>> 8) & 0xff;
    out[at + 5] = declared & 0xff;
    out[at + 6] = rec.padding;
    out[at + 7] = r !== undefined && r.chance(0.05) ? r.int(256) : 0;
    out.set(rec.content, at + 8);
    at += 8 + rec.content.length;
    if (r !== undefined && rec.padding > 0 && r.chance(0.2)) out.set(r.bytes(rec.padding), at);
    at += rec.padding;
  }
  return out;
}

function aligned(length: number): number {
  return (8 - (length & 7)) & 7;
}

function rec(type: number, id: number, content: Uint8Array = EMPTY, r?: Prng, phase?: Phase): Rec {
  let padding = aligned(content.length);
  if (r !== undefined && r.chance(0.08)) padding = r.int(256);
  return { type, id, content, padding, phase };
}

// --- name-value pairs ---

function lengthBytes(n: number, long: boolean): number[] {
  if (n < 128 && !long) return [n];
  return [((n >>> 24) & 0x7f) | 0x80, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** Encodes pairs; with `r`, short lengths are sometimes sent in the 4-byte form. */
export function encodePairsRaw(pairs: Array<[Uint8Array, Uint8Array]>, r?: Prng): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, value] of pairs) {
    parts.push(
      new Uint8Array([
        ...lengthBytes(name.length, r?.chance(0.03) ?? false),
        ...lengthBytes(value.length, r?.chance(0.03) ?? false),
      ]),
      name,
      value,
    );
  }
  return concat(parts);
}

/** 4-byte lengths near 2^31 (and the largest 31-bit values). */
export const GIANT_PAIR_LENGTHS = [
  0x7fffffff,
  0x7ffffffe,
  0x7ffffff8,
  0x7fffff00,
  0x7f000000,
  0x40000000,
  0x10000000,
  0x00ffffff,
  0x00010000,
  0x0000ffff,
];

/** A pair whose name or value length (4-byte form) is near 2^31, with little data behind it. */
export function giantPair(r: Prng): Uint8Array {
  const giant = r.pick(GIANT_PAIR_LENGTHS);
  const small = r.int(20);
  const out: number[] = [];
  const g = [(giant >>> 24) | 0x80, (giant >>> 16) & 0xff, (giant >>> 8) & 0xff, giant & 0xff];
  if (r.chance(0.5)) out.push(...g, small);
  else out.push(...lengthBytes(small, r.chance(0.5)), ...g);
  const trailing = r.size(64);
  for (let i = 0; i < trailing; i++) out.push(r.int(256));
  return new Uint8Array(out);
}

const METHODS = [
  "GET",
  "GET",
  "GET",
  "POST",
  "POST",
  "HEAD",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
  "",
  "G E T",
  "get",
  "CONNECT",
  "TRACE",
  "X\r\nY",
];
const URIS = [
  "/",
  "/index",
  "/a/b?c=d&e",
  "/%2F%2e%2e/",
  "*",
  "http://example.test/abs",
  "//double",
  "",
  "/%",
  "/\u0000nul",
  "/\u00e9t\u00e9",
  "/sp ace",
  "/\r\nX-Injected: 1",
  "?only=query",
  "relative/path",
];
const HOSTS = [
  "example.test",
  "example.test:8080",
  "[::1]:80",
  "127.0.0.1",
  "",
  "exa mple",
  "[::1",
  "a\r\nb",
  "h\u00e9st",
  "x".repeat(300),
];
const SPECIAL_NAMES = [
  "HTTP_PROXY",
  "HTTP_COOKIE",
  "HTTP_CONTENT_LENGTH",
  "HTTP_CONTENT_TYPE",
  "HTTP_TRANSFER_ENCODING",
  "HTTP_CONNECTION",
  "HTTPS",
  "REQUEST_SCHEME",
  "CONTENT_LENGTH",
  "CONTENT_TYPE",
  "PATH_INFO",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "HTTP_",
  "HTTP_X",
  "",
];

function randomText(r: Prng, max: number): Uint8Array {
  const length = r.size(max);
  const out = new Uint8Array(length);
  const mode = r.int(4);
  for (let i = 0; i < length; i++) {
    out[i] = mode === 0
      ? r.int(256)
      : mode === 1
      ? 0x20 + r.int(95)
      : mode === 2
      ? r.pick([0, 10, 13, 0x7f, 0x80, 0xc3, 0xa9, 0xff, 0x41])
      : 0x61 + r.int(26);
  }
  return out;
}

function randomValue(r: Prng, choices: readonly string[]): Uint8Array {
  if (r.chance(0.85)) return enc.encode(r.pick(choices));
  return randomText(r, r.chance(0.1) ? 400 : 60);
}

/** Params for one request: mostly plausible, sometimes odd, occasionally over the size limit. */
export function randomParams(
  r: Prng,
  opts: { hugeChance?: number } = {},
): Array<[Uint8Array, Uint8Array]> {
  const method = randomValue(r, METHODS);
  const uri = randomValue(r, URIS);
  const list: Array<[string, Uint8Array]> = [
    ["REQUEST_METHOD", method],
    ["REQUEST_URI", uri],
    ["SCRIPT_NAME", enc.encode("/index")],
    ["QUERY_STRING", enc.encode(r.chance(0.5) ? "" : "a=1")],
    ["HTTP_HOST", randomValue(r, HOSTS)],
    ["SERVER_NAME", enc.encode("example.test")],
    ["SERVER_PORT", enc.encode(r.pick(["80", "443", "8080", "", "x"]))],
    ["REMOTE_ADDR", enc.encode(r.pick(["127.0.0.1", "::1", "", "not-an-ip"]))],
    ["REMOTE_PORT", enc.encode(r.pick(["40000", "0", "-1", "99999", "x"]))],
  ];
  if (r.chance(0.4)) {
    list.push([
      "CONTENT_LENGTH",
      enc.encode(r.pick(["", "0", "-1", "5", "100000", "abc", "99999999999999999999"])),
    ]);
  }
  if (r.chance(0.3)) {
    list.push([
      "CONTENT_TYPE",
      randomValue(r, [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
      ]),
    ]);
  }
  const extra = r.size(8);
  for (let i = 0; i < extra; i++) {
    const name = r.chance(0.5)
      ? r.pick(SPECIAL_NAMES)
      : r.chance(0.8)
      ? "HTTP_" + String.fromCharCode(...Array.from({ length: 1 + r.int(12) }, () =>
        r.pick([65, 66, 67, 88, 89, 95, 45, 48])))
      : "";
    list.push([name, randomValue(r, ["1", "http://evil.test:8080", "a=b; c=d", "", "v"])]);
    if (name === "" && r.chance(0.5)) {
      list[list.length - 1][0] = String.fromCharCode(...randomText(r, 20));
    }
  }
  // Drop or duplicate a few entries (repeated names are legal and merged).
  const out: Array<[Uint8Array, Uint8Array]> = [];
  for (const [name, value] of list) {
    if (r.chance(0.04)) continue;
    out.push([enc.encode(name), value]);
    if (r.chance(0.04)) out.push([enc.encode(name), randomValue(r, ["dup"])]);
  }
  // Long values use the 4-byte length form; a few go past maxParamsBytes.
  if (r.chance(0.15)) {
    out.push([enc.encode("HTTP_X_LONG"), new Uint8Array(128 + r.size(3000)).fill(0x61)]);
  }
  if (r.chance(opts.hugeChance ?? 0.03)) {
    out.push([enc.encode("HTTP_X_HUGE"), new Uint8Array(9000 + r.int(70000)).fill(0x62)]);
  }
  // Shuffle a little: web servers send params in any order.
  for (let i = out.length - 1; i > 0 && r.chance(0.3); i--) {
    const j = r.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Splits `content` into stream records of random sizes (at most 65535), then the empty one. */
function streamRecords(
  r: Prng,
  type: number,
  id: number,
  content: Uint8Array,
  phase: Phase,
  endPhase: Phase,
): Rec[] {
  const records: Rec[] = [];
  let maxSize = r.pick([1, 7, 100, 8192, 65528, 65535]);
  if (content.length > 4096 && maxSize < 8192) maxSize = 8192;
  for (let at = 0; at < content.length;) {
    const size = Math.min(content.length - at, 1 + r.int(maxSize));
    records.push(rec(type, id, content.subarray(at, at + size), r, phase));
    at += size;
  }
  records.push(rec(type, id, EMPTY, r, endPhase));
  return records;
}

function beginBody(role: number, keepConn: boolean, r?: Prng): Uint8Array {
  const flags = (keepConn ? 1 : 0) | (r !== undefined && r.chance(0.05) ? r.int(256) & 0xfe : 0);
  return new Uint8Array([role >>> 8, role & 0xff, flags, 0, 0, 0, 0, 0]);
}

export interface RequestShape {
  id: number;
  role: number;
  keepConn: boolean;
  params: Uint8Array;
  stdin: Uint8Array;
  data: Uint8Array | null;
}

/** How often inputs are large (bodies over 64 KiB, params over the limit); decoders get fewer. */
export interface Scale {
  big: number;
}
const DEFAULT_SCALE: Scale = { big: 0.05 };
let scale: Scale = DEFAULT_SCALE;

export function randomRequest(r: Prng, id: number, keepConn: boolean): RequestShape {
  const roleDraw = r.int(100);
  const role = roleDraw < 80
    ? 1
    : roleDraw < 88
    ? 2
    : roleDraw < 96
    ? 3
    : r.pick([0, 4, 255, 256, 0xffff]);
  let params = encodePairsRaw(randomParams(r, { hugeChance: scale.big * 0.6 }), r);
  if (r.chance(0.03)) params = concat([params, giantPair(r)]);
  const stdinSize = r.chance(scale.big) ? 65536 + r.int(140000) : r.size(3000);
  const stdin = stdinSize === 0
    ? EMPTY
    : stdinSize <= 4096
    ? r.bytes(stdinSize)
    : new Uint8Array(stdinSize).fill(0x5a);
  const data = role === 3
    ? (r.chance(scale.big * 2)
      ? new Uint8Array(65536 + r.int(70000)).fill(0x44)
      : r.bytes(r.size(500)))
    : null;
  return { id, role, keepConn, params, stdin, data };
}

/** The records of one request, in order, each tagged with the phase it belongs to. */
export function requestRecords(r: Prng, shape: RequestShape): Rec[] {
  const records: Rec[] = [
    rec(T.BEGIN, shape.id, beginBody(shape.role, shape.keepConn, r), r, "begin"),
  ];
  for (const x of streamRecords(r, T.PARAMS, shape.id, shape.params, "params", "params-end")) {
    records.push(x);
  }
  for (const x of streamRecords(r, T.STDIN, shape.id, shape.stdin, "stdin", "stdin-end")) {
    records.push(x);
  }
  if (shape.data !== null) {
    for (const x of streamRecords(r, T.DATA, shape.id, shape.data, "data", "data-end")) {
      records.push(x);
    }
  }
  return records;
}

function managementRecord(r: Prng): Rec {
  if (r.chance(0.7)) {
    const names = ["FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS", "OTHER", ""];
    const pairs: Array<[Uint8Array, Uint8Array]> = [];
    for (let n = r.int(4); n >= 0; n--) {
      pairs.push([enc.encode(r.pick(names)), r.chance(0.9) ? EMPTY : randomText(r, 10)]);
    }
    return rec(T.GET_VALUES, 0, encodePairsRaw(pairs, r), r, "mgmt");
  }
  return rec(r.int(256), 0, r.bytes(r.size(16)), r, "mgmt");
}

/** Merges record lists at random, keeping each list's own order. */
function interleave(r: Prng, lists: Rec[][]): Rec[] {
  const out: Rec[] = [];
  const at = lists.map(() => 0);
  let left = lists.reduce((n, l) => n + l.length, 0);
  while (left > 0) {
    const live = lists.map((_, i) => i).filter((i) => at[i] < lists[i].length);
    const i = r.pick(live);
    out.push(lists[i][at[i]++]);
    left--;
  }
  return out;
}

/** One to a few well-formed requests on one connection, sequential or multiplexed. */
export function validSession(r: Prng): Rec[] {
  const shape = r.int(10);
  let records: Rec[];
  if (shape < 6) {
    records = requestRecords(
      r,
      randomRequest(r, r.chance(0.8) ? 1 : 1 + r.int(0xffff), r.chance(0.5)),
    );
  } else if (shape < 8) {
    // Sequential on a kept connection; the id is reused, as nginx does.
    const id = r.chance(0.7) ? 1 : 1 + r.int(0xffff);
    const n = 2 + r.int(3);
    records = [];
    for (let i = 0; i < n; i++) {
      for (const x of requestRecords(r, randomRequest(r, id, i < n - 1 || r.chance(0.5)))) {
        records.push(x);
      }
    }
  } else {
    // Multiplexed (HAProxy style): distinct ids, records interleaved.
    const n = 2 + r.int(3);
    const ids = new Set<number>();
    while (ids.size < n) ids.add(r.chance(0.5) ? 1 + 2 * ids.size : 1 + r.int(0xffff));
    records = interleave(r, [...ids].map((id) => requestRecords(r, randomRequest(r, id, true))));
  }
  for (let n = r.chance(0.15) ? 1 + r.int(3) : 0; n > 0; n--) {
    records.splice(r.int(records.length + 1), 0, managementRecord(r));
  }
  return records;
}

// --- mutations ---

const MUTATIONS = [
  "flip",
  "byte",
  "length",
  "padding",
  "truncate",
  "insert",
  "duplicate",
  "delete",
  "swap",
  "giant",
  "pairlen",
  "version",
  "id",
  "abort",
] as const;
type Mutation = typeof MUTATIONS[number];

function randomRecordOfAnyType(r: Prng, ids: number[]): Rec {
  const type = r.chance(0.5) ? r.int(12) : r.int(256);
  const id = r.chance(0.7) && ids.length > 0 ? r.pick(ids) : r.chance(0.5) ? 0 : r.int(0x10000);
  const content = r.pick([
    EMPTY,
    beginBody(r.pick([1, 2, 3, 9]), r.chance(0.5)),
    r.bytes(r.size(40)),
    encodePairsRaw([[enc.encode("A"), enc.encode("B")]]),
  ]);
  return rec(type, id, content, r);
}

/** Applies 1-3 mutations to a record list; returns the bytes and the mutation names. */
export function mutate(r: Prng, records: Rec[]): { bytes: Uint8Array; applied: string[] } {
  const list = records.slice();
  const ids = [...new Set(records.map((x) => x.id))];
  const applied: string[] = [];
  const byteLevel: Mutation[] = [];
  for (let n = 1 + r.int(3); n > 0; n--) {
    const m = r.pick(MUTATIONS);
    applied.push(m);
    const i = r.int(list.length);
    switch (m) {
      case "length":
        if (list.length) {
          list[i] = {
            ...list[i],
            declared: r.pick([
              0,
              1,
              7,
              8,
              0xffff,
              list[i].content.length + 1,
              Math.max(0, list[i].content.length - 1),
              r.int(0x10000),
            ]),
          };
        }
        break;
      case "padding":
        if (list.length) list[i] = { ...list[i], padding: r.pick([0, 1, 7, 255, r.int(256)]) };
        break;
      case "insert":
        list.splice(r.int(list.length + 1), 0, randomRecordOfAnyType(r, ids));
        break;
      case "duplicate":
        if (list.length) list.splice(r.int(list.length + 1), 0, list[i]);
        break;
      case "delete":
        if (list.length) list.splice(i, 1);
        break;
      case "swap": {
        if (list.length > 1) {
          const j = r.int(list.length);
          [list[i], list[j]] = [list[j], list[i]];
        }
        break;
      }
      case "giant":
        list.splice(r.int(list.length + 1), 0, {
          type: r.pick([T.PARAMS, T.STDIN, T.BEGIN, T.DATA, r.int(256)]),
          id: ids[0] ?? 1,
          content: r.bytes(r.size(300)),
          padding: 255,
          declared: 0xffff,
        });
        break;
      case "pairlen": {
        const at = list.findIndex((x) => x.type === T.PARAMS && x.content.length > 0);
        const giant = rec(T.PARAMS, at >= 0 ? list[at].id : (ids[0] ?? 1), giantPair(r), r);
        list.splice(at >= 0 ? at + (r.chance(0.5) ? 1 : 0) : r.int(list.length + 1), 0, giant);
        break;
      }
      case "version":
        if (list.length) list[i] = { ...list[i], version: r.pick([0, 2, 255, r.int(256)]) };
        break;
      case "id":
        if (list.length) list[i] = { ...list[i], id: r.pick([0, 1, 2, 0xffff, r.int(0x10000)]) };
        break;
      case "abort":
        list.splice(
          r.int(list.length + 1),
          0,
          rec(T.ABORT, r.chance(0.8) && ids.length ? r.pick(ids) : r.int(0x10000), EMPTY, r),
        );
        break;
      default:
        byteLevel.push(m);
    }
  }
  let bytes = serialize(list, r);
  for (const m of byteLevel) {
    if (bytes.length === 0) break;
    if (m === "flip") {
      for (let n = 1 + r.int(4); n > 0; n--) bytes[r.int(bytes.length)] ^= 1 << r.int(8);
    } else if (m === "byte") {
      for (let n = 1 + r.int(3); n > 0; n--) {
        bytes[r.int(bytes.length)] = r.pick([0, 1, 0x7f, 0x80, 0xff, r.int(256)]);
      }
    } else if (m === "truncate") {
      bytes = bytes.slice(0, r.int(bytes.length));
    }
  }
  return { bytes, applied };
}

// --- records of every type in every state ---

export const STATES = ["before-begin", "during-params", "during-stdin", "after-end"] as const;
export type State = typeof STATES[number];

/** A valid request with a record of `type` inserted in `state`. */
export function typeInState(r: Prng, type: number, state: State, keepConn: boolean): Rec[] {
  const id = r.chance(0.8) ? 1 : 1 + r.int(0xffff);
  const shape = randomRequest(r, id, keepConn);
  shape.role = r.chance(0.85) ? 1 : r.pick([2, 3]);
  if (shape.params.length === 0) {
    shape.params = encodePairsRaw([[enc.encode("REQUEST_METHOD"), enc.encode("GET")]]);
  }
  if (shape.stdin.length === 0) shape.stdin = r.bytes(1 + r.int(100));
  if (shape.role === 3 && shape.data === null) shape.data = r.bytes(10);
  if (shape.role !== 3) shape.data = null;
  const records = requestRecords(r, shape);
  const content = r.pick([
    EMPTY,
    beginBody(r.pick([1, 2, 3]), keepConn),
    r.bytes(1 + r.int(30)),
    encodePairsRaw([[enc.encode("X"), enc.encode("y")]]),
  ]);
  const idChoice = r.int(10);
  const insertedId = idChoice < 7 ? id : idChoice < 9 ? 0 : (id % 0xffff) + 1;
  const inserted = rec(type, insertedId, content, r);
  let at: number;
  if (state === "before-begin") at = 0;
  else if (state === "during-params") at = records.findIndex((x) => x.phase === "params-end");
  else if (state === "during-stdin") at = records.findIndex((x) => x.phase === "stdin-end");
  else at = records.length;
  records.splice(at, 0, inserted);
  return records;
}

// --- splitting ---

/** Random chunk boundaries: none, a few, at record edges, or every byte of a small input. */
export function randomSplits(r: Prng, bytes: Uint8Array): number[] {
  const n = bytes.length;
  if (n < 2) return [];
  const mode = r.int(10);
  const points = new Set<number>();
  if (mode < 3) return [];
  if (mode < 7) {
    for (let k = 1 + r.int(8); k > 0; k--) points.add(1 + r.int(n - 1));
  } else if (mode < 9) {
    // Around record boundaries and inside headers.
    let at = 0;
    while (at + 8 <= n && points.size < 64) {
      const total = 8 + ((bytes[at + 4] << 8) | bytes[at + 5]) + bytes[at + 6];
      const p = at + r.pick([1, 4, 5, 6, 7, 8, 9, total - 1, total]);
      if (p > 0 && p < n) points.add(p);
      at += total;
    }
  } else if (n <= 600) {
    for (let i = 1; i < n; i++) points.add(i);
  } else {
    for (let k = 1 + r.int(40); k > 0; k--) points.add(1 + r.int(n - 1));
  }
  return [...points].sort((a, b) => a - b);
}

/** The chunks of a case. */
export function chunksOf(c: { bytes: Uint8Array; splits: number[] }): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of c.splits) {
    if (p <= at || p >= c.bytes.length) continue;
    out.push(c.bytes.subarray(at, p));
    at = p;
  }
  if (at < c.bytes.length || out.length === 0) out.push(c.bytes.subarray(at));
  return out;
}

// --- the generators ---

export const KINDS = ["random", "valid", "split", "mutated", "type-state", "giant"] as const;
export type Kind = typeof KINDS[number];

function randomBytesCase(r: Prng): Uint8Array {
  const n = r.size(400);
  const out = r.bytes(n);
  // Half the time, plausible headers: version 1, small types and lengths.
  if (r.chance(0.5)) {
    for (let at = 0; at + 8 <= n; at += 8 + r.int(24)) {
      out[at] = 1;
      out[at + 1] = r.int(12);
      out[at + 2] = 0;
      out[at + 3] = r.int(3);
      out[at + 4] = 0;
      out[at + 5] = r.int(24);
      out[at + 6] = r.int(8);
    }
  }
  return out;
}

/** One fuzz case of the given (or a random) kind. */
export function generateCase(
  r: Prng,
  kind: Kind = r.pick(KINDS),
  withScale: Scale = DEFAULT_SCALE,
): FuzzCase {
  scale = withScale;
  let bytes: Uint8Array;
  let name: string = kind;
  switch (kind) {
    case "random":
      bytes = randomBytesCase(r);
      break;
    case "valid":
      bytes = serialize(validSession(r), r.chance(0.3) ? r : undefined);
      break;
    case "split":
      bytes = serialize(validSession(r));
      break;
    case "mutated": {
      const m = mutate(r, validSession(r));
      bytes = m.bytes;
      name = `mutated:${m.applied.join("+")}`;
      break;
    }
    case "type-state": {
      const type = r.int(256);
      const state = r.pick(STATES);
      const keepConn = r.chance(0.5);
      bytes = serialize(typeInState(r, type, state, keepConn));
      name = `type-state:${type}@${state}${keepConn ? "+keep" : ""}`;
      break;
    }
    case "giant": {
      const records = validSession(r);
      const at = r.int(records.length + 1);
      const giant: Rec = {
        type: r.pick([T.PARAMS, T.STDIN, T.DATA, T.BEGIN, T.GET_VALUES]),
        id: r.chance(0.2) ? 0 : records[0]?.id ?? 1,
        content: r.bytes(r.size(2000)),
        padding: r.pick([0, 255]),
        declared: 0xffff,
      };
      bytes = serialize([...records.slice(0, at), giant]);
      break;
    }
  }
  let splits = randomSplits(r, bytes);
  if (kind === "split" && splits.length === 0) splits = [1 + r.int(Math.max(1, bytes.length - 1))];
  return { kind: name, bytes, splits, fin: r.chance(0.5) };
}

/** An input for the name-value decoders. */
export function generatePairs(
  r: Prng,
): { kind: string; bytes: Uint8Array; valid: Array<[Uint8Array, Uint8Array]> | null } {
  const k = r.int(5);
  if (k === 0) return { kind: "random", bytes: randomText(r, 200), valid: null };
  const pairs: Array<[Uint8Array, Uint8Array]> = [];
  for (let n = r.size(6); n > 0; n--) {
    pairs.push([randomText(r, r.chance(0.1) ? 300 : 40), randomText(r, r.chance(0.1) ? 300 : 40)]);
  }
  const bytes = encodePairsRaw(pairs, r);
  if (k === 1) return { kind: "valid", bytes, valid: pairs };
  if (k === 2) {
    return {
      kind: "giant",
      bytes: concat([bytes.subarray(0, r.int(bytes.length + 1)), giantPair(r)]),
      valid: null,
    };
  }
  if (k === 3) {
    return { kind: "truncated", bytes: bytes.slice(0, r.int(bytes.length + 1)), valid: null };
  }
  const out = bytes.slice();
  for (let n = 1 + r.int(3); n > 0 && out.length > 0; n--) out[r.int(out.length)] ^= 1 << r.int(8);
  return { kind: "flipped", bytes: out, valid: null };
}
