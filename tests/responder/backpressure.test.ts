// Backpressure and bounded memory: 100 MB up and down, a peer that stops
// reading, and request bodies nobody reads. The client runs in this process
// too, so it never holds a whole body: it makes and checks bytes on the fly.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, type Hash } from "node:crypto";
import * as net from "node:net";
import process from "node:process";
import {
  begin,
  concat,
  GET,
  pairs,
  parseCgi,
  RawConn,
  rec,
  requestBytes,
  T,
  type Target,
} from "../support/fcgi_client.ts";
import { sleep, start, tempDir } from "../support/server.ts";
import { lineChild } from "../support/line_child.ts";
import { chunk } from "../support/pattern.ts";
import { downloadHandler } from "../support/download_handler.ts";
import { fixture, runtime, runtimeCommand } from "../fixtures/spawn.ts";

const MB = 1 << 20;
const RECORD = 65528;
/** How much more memory than before a 100 MB transfer may use, at its peak. */
const RSS_BOUND = 64 * MB;

/** Samples RSS every 50 ms; `peak()` is the highest growth over the baseline. */
function rssMeter(): { stop(): { baseline: number; peak: number; growth: number } } {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      return { baseline, peak, growth: peak - baseline };
    },
  };
}

const fmt = (n: number) => `${(n / MB).toFixed(1)} MB`;

function report(name: string, m: { baseline: number; peak: number; growth: number }): void {
  const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
  console.log(
    `# rss ${runtime} ${name}: baseline ${fmt(m.baseline)}, peak ${fmt(m.peak)}, growth ${
      fmt(m.growth)
    }`,
  );
}

interface Ended {
  appStatus: number;
  protocolStatus: number;
}

/**
 * A FastCGI connection that parses replies as a stream and keeps nothing:
 * STDOUT bytes go to `onStdout` (the first `head` bytes, up to the blank
 * line, are kept as text).
 */
class StreamConn {
  readonly socket: net.Socket;
  head = "";
  bodyBytes = 0;
  /** The first 64 KiB of the body, as text. */
  text = "";
  hash: Hash = createHash("sha256");
  ended: Promise<Ended>;
  closed: Promise<void>;
  #header = new Uint8Array(8);
  #headerFill = 0;
  #left = 0;
  #padding = 0;
  #type = 0;
  #endContent: number[] = [];
  #headDone = false;
  #end!: (value: Ended) => void;
  #progress: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.ended = new Promise((resolve) => (this.#end = resolve));
    socket.on("data", (data: Uint8Array) => this.#onData(data));
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  static connect(target: Target): Promise<StreamConn> {
    return new Promise((resolve, reject) => {
      const socket = "path" in target
        ? net.connect({ path: target.path })
        : net.connect({ port: target.port, host: target.hostname ?? "127.0.0.1" });
      socket.once("connect", () => resolve(new StreamConn(socket)));
      socket.once("error", reject);
    });
  }

  /** Resolves once at least `bytes` body bytes have arrived. */
  async received(bytes: number): Promise<void> {
    while (this.bodyBytes < bytes) {
      await new Promise<void>((resolve) => this.#progress.push(resolve));
    }
  }

  #onData(data: Uint8Array): void {
    let at = 0;
    while (at < data.length) {
      if (this.#left === 0 && this.#padding === 0) {
        const take = Math.min(8 - this.#headerFill, data.length - at);
        this.#header.set(data.subarray(at, at + take), this.#headerFill);
        this.#headerFill += take;
        at += take;
        if (this.#headerFill < 8) break;
        this.#headerFill = 0;
        this.#type = this.#header[1];
        this.#left = (this.#header[4] << 8) | this.#header[5];
        this.#padding = this.#header[6];
        continue;
      }
      if (this.#left > 0) {
        const take = Math.min(this.#left, data.length - at);
        this.#content(data.subarray(at, at + take));
        this.#left -= take;
        at += take;
        if (this.#left === 0 && this.#padding === 0) this.#recordDone();
        continue;
      }
      const skip = Math.min(this.#padding, data.length - at);
      this.#padding -= skip;
      at += skip;
      if (this.#padding === 0) this.#recordDone();
    }
    const waiters = this.#progress;
    this.#progress = [];
    for (const wake of waiters) wake();
  }

  #content(bytes: Uint8Array): void {
    if (this.#type === T.END) {
      this.#endContent.push(...bytes);
      return;
    }
    if (this.#type !== T.STDOUT) return;
    let body = bytes;
    if (!this.#headDone) {
      const text = new TextDecoder("latin1").decode(bytes);
      const all = this.head + text;
      const blank = all.indexOf("\r\n\r\n");
      if (blank < 0) {
        this.head = all;
        return;
      }
      this.#headDone = true;
      this.head = all.slice(0, blank);
      body = bytes.subarray(blank + 4 - (all.length - text.length));
    }
    if (this.bodyBytes < 65536) {
      this.text += new TextDecoder().decode(body.subarray(0, 65536 - this.bodyBytes));
    }
    this.bodyBytes += body.length;
    this.hash.update(body);
  }

  #recordDone(): void {
    if (this.#type === T.END && this.#endContent.length === 8) {
      const c = this.#endContent;
      this.#end({
        appStatus: ((c[0] << 24) | (c[1] << 16) | (c[2] << 8) | c[3]) >>> 0,
        protocolStatus: c[4],
      });
    }
    // an empty-content record ends here too; nothing to do
  }

  /** Writes, waiting for 'drain' when the socket says so. */
  async write(bytes: Uint8Array): Promise<void> {
    if (!this.socket.write(bytes)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          this.socket.off("close", onClose);
          resolve();
        };
        const onClose = () => {
          this.socket.off("drain", onDrain);
          reject(new Error("closed while writing"));
        };
        this.socket.once("drain", onDrain);
        this.socket.once("close", onClose);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

const ZEROS = new Uint8Array(8);

function recordHeader(type: number, id: number, length: number, padding: number): Uint8Array {
  return new Uint8Array([1, type, id >> 8, id & 255, length >> 8, length & 255, padding, 0]);
}

function sha(hash: Hash): string {
  return hash.digest("hex");
}

interface Transfer {
  rss: { baseline: number; peak: number; growth: number };
  /** Upload: how far the client's sent bytes ran ahead of the handler's reads, at most. */
  ahead: number;
}

/** POSTs `total` bytes to a handler that hashes them a little slower than the client sends. */
async function upload(total: number): Promise<Transfer> {
  let handlerBytes = 0;
  await using s = await start(async (request) => {
    const hash = createHash("sha256");
    const reader = request.body!.getReader();
    let sinceNap = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      handlerBytes += value.length;
      sinceNap += value.length;
      if (sinceNap >= 256 * 1024) {
        // ~50 MB/s at most, slower than the client: without backpressure the
        // body would pile up in memory
        sinceNap = 0;
        await sleep(4);
      }
    }
    return Response.json({ length: handlerBytes, sha: sha(hash) });
  }, { unix: true });
  const meter = rssMeter();
  const conn = await StreamConn.connect(s.target);
  await conn.write(concat([
    begin(1, 1, false),
    rec(
      T.PARAMS,
      1,
      pairs(GET("/upload", { REQUEST_METHOD: "POST", CONTENT_LENGTH: String(total) })),
    ),
    rec(T.PARAMS, 1),
  ]));
  const expected = createHash("sha256");
  let ahead = 0;
  for (let sent = 0, k = 0; sent < total; k++) {
    const size = Math.min(RECORD, total - sent);
    const content = chunk(k, size);
    expected.update(content);
    // a header, then a view of the static pattern: the client allocates ~nothing
    const padding = (8 - (size % 8)) % 8;
    conn.socket.write(recordHeader(T.STDIN, 1, size, padding));
    if (padding > 0) conn.socket.write(content);
    await conn.write(padding > 0 ? ZEROS.subarray(0, padding) : content);
    sent += size;
    ahead = Math.max(ahead, sent - handlerBytes);
  }
  await conn.write(rec(T.STDIN, 1));
  const end = await conn.ended;
  const rss = meter.stop();
  conn.close();
  assert.equal(end.protocolStatus, 0);
  assert.match(conn.head, /^Status: 200/);
  assert.deepEqual(JSON.parse(conn.text), { length: total, sha: sha(expected) });
  return { rss, ahead };
}

/** GETs `total` bytes of download_app's /download and checks every byte. */
async function fetchDownload(target: Target, total: number): Promise<void> {
  const expected = createHash("sha256");
  for (let k = 0; k < total / MB; k++) expected.update(chunk(k, MB));
  const conn = await StreamConn.connect(target);
  await conn.write(requestBytes({ params: GET(`/download?bytes=${total}`) }));
  const end = await conn.ended;
  conn.close();
  assert.equal(end.protocolStatus, 0);
  assert.equal(end.appStatus, 0);
  assert.match(conn.head, /^Status: 200/);
  assert.equal(conn.bodyBytes, total);
  assert.equal(sha(conn.hash), sha(expected));
}

/**
 * GETs `total` bytes that the handler produces in 1 MiB chunks from pull(),
 * after `warmup` bytes through the same server; RSS is that server's. On Bun
 * the server runs in a child process (tests/fixtures/download_app.ts says
 * why); Deno and Node measure it in this process, as before.
 */
async function download(warmup: number, total: number): Promise<Transfer> {
  if (runtime === "bun") return await downloadFromChild(warmup, total);
  await using s = await start(downloadHandler, { unix: true });
  await fetchDownload(s.target, warmup);
  const meter = rssMeter();
  await fetchDownload(s.target, total);
  return { rss: meter.stop(), ahead: 0 };
}

async function downloadFromChild(warmup: number, total: number): Promise<Transfer> {
  const path = `${tempDir()}/download.sock`;
  const child = lineChild([...runtimeCommand(fixture("download_app")), path]);
  try {
    assert.equal(await child.line(), "ready");
    await fetchDownload({ path }, warmup);
    child.send("meter");
    assert.equal(await child.line(), "ok");
    await fetchDownload({ path }, total);
    child.send("stop");
    const rss = JSON.parse(await child.line()) as Transfer["rss"];
    return { rss, ahead: 0 };
  } finally {
    await child.stop();
  }
}

describe("backpressure and bounded memory", () => {
  // RSS is measured after warm-up transfers through the same code, so that
  // one-time costs (lazily loaded runtime modules, JIT code, the allocator
  // growing to its working size) do not count as growth. Cold, Deno's first
  // 100 MB upload grows RSS by ~70-80 MB of not-yet-collected socket read
  // buffers; after one 30 MB transfer, by ~20 MB. The upload's hard signal
  // is `ahead`: how far the client got ahead of the handler's reads.
  it(
    "a 100 MB upload reaches a slow handler with bounded memory",
    { timeout: 120000 },
    async () => {
      await upload(4 * MB);
      await upload(30 * MB);
      const { rss, ahead } = await upload(100 * MB);
      report("upload 100 MB", rss);
      console.log(`# upload: the client was at most ${fmt(ahead)} ahead of the handler`);
      assert.ok(ahead < 8 * MB, `the client ran ${fmt(ahead)} ahead of the handler`);
      assert.ok(rss.growth < RSS_BOUND, `RSS grew by ${fmt(rss.growth)} (bound ${fmt(RSS_BOUND)})`);
    },
  );

  it("a 100 MB download from a pull-based stream arrives whole with bounded memory", {
    timeout: 120000,
  }, async () => {
    const { rss } = await download(4 * MB, 100 * MB);
    report("download 100 MB", rss);
    assert.ok(rss.growth < RSS_BOUND, `RSS grew by ${fmt(rss.growth)} (bound ${fmt(RSS_BOUND)})`);
  });

  for (const unix of [true, false]) {
    // Loopback TCP autotunes its kernel buffers to several MB on each side;
    // a Unix socket holds a few hundred KB.
    const slack = unix ? 4 * MB : 24 * MB;
    it(`a peer that stops reading stops the handler's pull() (${unix ? "unix" : "tcp"})`, {
      timeout: 60000,
    }, async () => {
      const total = 50 * MB;
      let pulled = 0;
      await using s = await start(() => {
        let k = 0;
        return new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              if (pulled >= total) return controller.close();
              controller.enqueue(chunk(k++, MB).slice());
              pulled += MB;
            },
          }),
        );
      }, { unix });
      const conn = await StreamConn.connect(s.target);
      await conn.write(requestBytes({ params: GET("/slow-reader") }));
      await conn.received(2 * MB);
      conn.socket.pause();
      await sleep(300);
      const early = { pulled, read: conn.bodyBytes };
      await sleep(700);
      const late = { pulled, read: conn.bodyBytes };
      console.log(
        `# paused ${unix ? "unix" : "tcp"} peer: client read ${fmt(late.read)}, handler pulled ${
          fmt(late.pulled)
        } (${fmt(late.pulled - late.read)} ahead)`,
      );
      assert.equal(late.read, early.read, "the paused client read nothing");
      assert.equal(late.pulled, early.pulled, "pull() was not called while the peer was paused");
      assert.ok(late.pulled < total, "the handler is not done");
      assert.ok(
        late.pulled - late.read <= slack,
        `pulled ${fmt(late.pulled - late.read)} ahead of the reader (allowed ${fmt(slack)})`,
      );
      conn.socket.resume();
      const end = await conn.ended;
      assert.equal(end.protocolStatus, 0);
      assert.equal(conn.bodyBytes, total);
      assert.equal(pulled, total);
      conn.close();
    });
  }

  for (const delay of [0, 200]) {
    it(
      `a 1 MB body the handler never reads is dropped; the kept connection goes on (answer after ${delay} ms)`,
      {
        timeout: 20000,
      },
      async () => {
        const seen: string[] = [];
        await using s = await start(async (request) => {
          const path = new URL(request.url).pathname;
          seen.push(path);
          if (path === "/ignore") {
            if (delay > 0) await sleep(delay);
            return new Response("ignored");
          }
          return new Response(`next got ${(await request.arrayBuffer()).byteLength}`);
        });
        const conn = await RawConn.connect(s.target);
        const body = chunk(5, MB);
        await conn.write(requestBytes({
          params: GET("/ignore", { REQUEST_METHOD: "POST", CONTENT_LENGTH: String(body.length) }),
          stdin: body,
          keepConn: true,
        }));
        const first = await conn.reply(1);
        assert.equal(parseCgi(first.stdout).text, "ignored");
        conn.clear();
        await conn.write(requestBytes({
          params: GET("/next", { REQUEST_METHOD: "POST", CONTENT_LENGTH: "3" }),
          stdin: new Uint8Array([1, 2, 3]),
          keepConn: true,
        }));
        const second = await conn.reply(1);
        assert.equal(parseCgi(second.stdout).text, "next got 3");
        assert.deepEqual(seen, ["/ignore", "/next"]);
        assert.equal(conn.isClosed, false);
        conn.close();
      },
    );
  }
});
