// The program that scripts/npm_smoke.mjs runs, under node, bun and deno, in a
// temporary project where the packed npm package is installed. It imports the
// package by its own name, so it checks what a user would get from npm.
//
// Plain JavaScript on purpose: Node 20 cannot run TypeScript. It builds its
// FastCGI request by hand, so a bug in the package's encoder cannot hide a
// bug in its server.

import assert from "node:assert/strict";
import net from "node:net";
import process from "node:process";
import * as w from "@webfcgi/webfcgi";

const runtime = globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : "node";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function codec() {
  const content = encoder.encode("hello, smoke");
  const bytes = w.encodeRecord(w.RecordType.STDOUT, 7, content);
  assert.equal(bytes.length % 8, 0, "records are padded to 8 bytes");
  // Feed the record split at every possible point.
  for (let split = 0; split <= bytes.length; split++) {
    const records = [];
    const decoderOfRecords = new w.RecordDecoder();
    decoderOfRecords.push(bytes.slice(0, split), (r) => records.push(copy(r)));
    decoderOfRecords.push(bytes.slice(split), (r) => records.push(copy(r)));
    assert.equal(records.length, 1, `one record at split ${split}`);
    assert.equal(records[0].type, w.RecordType.STDOUT);
    assert.equal(records[0].requestId, 7);
    assert.equal(decoder.decode(records[0].content), "hello, smoke");
  }
  const pairs = [["REQUEST_METHOD", "GET"], ["LONG", "x".repeat(300)], ["EMPTY", ""]];
  assert.deepEqual(w.decodePairs(w.encodePairs(pairs)), pairs);
  assert.throws(
    () => new w.RecordDecoder().push(new Uint8Array([2, 1, 0, 1, 0, 0, 0, 0]), () => {}),
    w.FastCGIProtocolError,
  );
}

function copy(record) {
  return { type: record.type, requestId: record.requestId, content: record.content.slice() };
}

// --- a hand-made FastCGI responder request --------------------------------

function record(type, requestId, content = new Uint8Array(0)) {
  const padding = (8 - (content.length % 8)) % 8;
  const bytes = new Uint8Array(8 + content.length + padding);
  bytes.set([
    1,
    type,
    requestId >> 8,
    requestId & 0xff,
    content.length >> 8,
    content.length & 0xff,
    padding,
    0,
  ]);
  bytes.set(content, 8);
  return bytes;
}

function params(object) {
  const parts = [];
  for (const [name, value] of Object.entries(object)) {
    const n = encoder.encode(name);
    const v = encoder.encode(value);
    assert.ok(n.length < 128 && v.length < 128);
    parts.push(new Uint8Array([n.length, v.length]), n, v);
  }
  const bytes = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

function request(port) {
  const out = [
    record(1, 1, new Uint8Array([0, 1, 0, 0, 0, 0, 0, 0])), // BEGIN_REQUEST, responder, flags 0
    record(4, 1, params({ REQUEST_METHOD: "GET", REQUEST_URI: "/x", HTTP_HOST: "localhost" })),
    record(4, 1), // end of PARAMS
    record(5, 1), // end of STDIN
  ];
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      for (const bytes of out) socket.write(bytes);
    });
    socket.on("data", (chunk) => chunks.push(new Uint8Array(chunk)));
    socket.on("error", reject);
    socket.on("close", () => {
      const all = new Uint8Array(chunks.reduce((size, c) => size + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      resolve(all);
    });
  });
}

function parseResponse(bytes) {
  let stdout = "";
  let end = null;
  let at = 0;
  while (at + 8 <= bytes.length) {
    assert.equal(bytes[at], 1, "version 1");
    const type = bytes[at + 1];
    const requestId = (bytes[at + 2] << 8) | bytes[at + 3];
    const length = (bytes[at + 4] << 8) | bytes[at + 5];
    const content = bytes.subarray(at + 8, at + 8 + length);
    assert.equal(requestId, 1, "request id");
    if (type === 6) stdout += decoder.decode(content, { stream: true });
    if (type === 3) {
      end = {
        appStatus: ((content[0] << 24) | (content[1] << 16) | (content[2] << 8) | content[3]) >>> 0,
        protocolStatus: content[4],
      };
    }
    at += 8 + length + bytes[at + 6];
  }
  assert.equal(at, bytes.length, "no trailing partial record");
  return { stdout, end };
}

async function server() {
  let listened;
  const onListen = new Promise((resolve) => (listened = resolve));
  const server = w.serveFastCGI(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => listened(addr) },
    (req) => new Response("smoke " + new URL(req.url).pathname),
  );
  try {
    const addr = await withTimeout(onListen, 5000, "onListen");
    assert.equal(addr.transport, "tcp");
    assert.ok(addr.port > 0, "a real port");
    const { transport, hostname, port } = server.addr;
    assert.deepEqual({ transport, hostname, port }, {
      transport: addr.transport,
      hostname: addr.hostname,
      port: addr.port,
    }, "server.addr matches onListen");
    const { stdout, end } = parseResponse(await withTimeout(request(addr.port), 5000, "request"));
    assert.match(stdout, /^Status: 200\b/m, `STDOUT has "Status: 200": ${JSON.stringify(stdout)}`);
    assert.match(
      stdout,
      /\r?\n\r?\nsmoke \/x$/,
      `STDOUT ends with the body: ${JSON.stringify(stdout)}`,
    );
    assert.deepEqual(end, { appStatus: 0, protocolStatus: 0 }, "END_REQUEST complete");
  } finally {
    await withTimeout(server.shutdown(), 5000, "shutdown()");
  }
  await withTimeout(server.finished, 5000, "finished");
}

try {
  codec();
  console.log(`${runtime}: codec ok`);
  if (typeof w.serveFastCGI === "function") {
    await server();
    console.log(`${runtime}: server ok`);
  } else {
    console.log(`${runtime}: server SKIPPED (the package has no serveFastCGI yet)`);
  }
} catch (error) {
  console.error(`${runtime}: ${error?.stack ?? error}`);
  process.exitCode = 1;
}
