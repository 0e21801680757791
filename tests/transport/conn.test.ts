// The Conn contract every transport keeps (src/transport/types.ts), checked
// for node:net on every runtime and for Bun's own sockets under Bun: data
// in, writes of one turn in one chunk, pause/resume, backpressure and
// drain, end (FIN first, late input dropped), destroy, peer close.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { nodeTransport } from "../../src/transport/node.ts";
import { bunTransport } from "../../src/transport/bun.ts";
import type { Conn, ConnHandlers, Listener, Transport } from "../../src/transport/types.ts";
import { deferred, waitFor, within } from "../support/wait.ts";

const transports: Array<[string, Transport]> = [["node:net", nodeTransport]];
if (typeof (globalThis as { Bun?: unknown }).Bun === "object") {
  transports.push(["Bun.listen", bunTransport]);
}

const text = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Accepted {
  conn: Conn;
  data: Uint8Array[];
  drains: number;
  closes: number;
  closed: Promise<void>;
}

/** Listens, and starts every accepted conn with recording handlers (plus `onData`). */
async function serve(
  transport: Transport,
  where: "tcp" | "unix",
  onData?: (accepted: Accepted, chunk: Uint8Array) => void,
): Promise<{ listener: Listener; accepted: Accepted[]; connect: () => Promise<Client> }> {
  const accepted: Accepted[] = [];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "webfcgi-conn-")), "t.sock");
  const listener = await transport.listen(
    where === "tcp" ? { hostname: "127.0.0.1", port: 0 } : { path: file },
    (conn) => {
      const closed = deferred();
      const entry: Accepted = { conn, data: [], drains: 0, closes: 0, closed: closed.promise };
      const handlers: ConnHandlers = {
        data(chunk) {
          entry.data.push(chunk);
          onData?.(entry, chunk);
        },
        drain() {
          entry.drains++;
        },
        close() {
          entry.closes++;
          closed.resolve();
        },
      };
      accepted.push(entry);
      conn.start(handlers);
    },
  );
  const connect = () =>
    Client.connect(
      listener.addr.transport === "tcp"
        ? { host: "127.0.0.1", port: listener.addr.port }
        : { path: file },
    );
  return { listener, accepted, connect };
}

/** A node:net client that records what it gets. */
class Client {
  readonly socket: net.Socket;
  readonly chunks: Uint8Array[] = [];
  ended = false;
  error: Error | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Uint8Array) => this.chunks.push(new Uint8Array(chunk)));
    socket.on("end", () => (this.ended = true));
    socket.on("error", (error) => (this.error = error));
    this.closed = new Promise((resolve) => socket.on("close", () => resolve()));
  }

  static connect(target: net.NetConnectOpts): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ ...target, allowHalfOpen: true });
      socket.once("connect", () => resolve(new Client(socket)));
      socket.once("error", reject);
    });
  }

  get received(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  get text(): string {
    return new TextDecoder().decode(this.received);
  }
}

for (const [name, transport] of transports) {
  for (const where of ["unix", "tcp"] as const) {
    describe(`${name} Conn over ${where}`, () => {
      it("delivers data, and writes made in one turn arrive as one chunk", async () => {
        const s = await serve(transport, where, (a) => {
          a.conn.write(text.encode("one "));
          a.conn.write(text.encode("two "));
          a.conn.write(text.encode("three"));
        });
        const client = await s.connect();
        client.socket.write("ping");
        await waitFor(() => client.text === "one two three", 3000, "the reply");
        assert.equal(client.chunks.length, 1);
        assert.equal(new TextDecoder().decode(s.accepted[0].data[0]), "ping");
        client.socket.destroy();
        await s.listener.close();
      });

      it("data that arrives before start() is delivered once it is called", async () => {
        const got: string[] = [];
        const started = deferred();
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "webfcgi-conn-")), "t.sock");
        const listener = await transport.listen(
          where === "tcp" ? { hostname: "127.0.0.1", port: 0 } : { path: file },
          (conn) => {
            setTimeout(() => {
              conn.start({
                data: (chunk) => got.push(new TextDecoder().decode(chunk)),
                drain() {},
                close() {},
              });
              started.resolve();
            }, 100);
          },
        );
        const client = await Client.connect(
          listener.addr.transport === "tcp"
            ? { host: "127.0.0.1", port: listener.addr.port }
            : { path: file },
        );
        client.socket.write("early");
        await within(started.promise, 3000, "start");
        client.socket.write(" late");
        await waitFor(() => got.join("") === "early late", 3000, "both chunks, in order");
        client.socket.destroy();
        await listener.close();
      });

      it("reports the peer: TCP address and port, or an unnamed Unix peer", async () => {
        const s = await serve(transport, where);
        const client = await s.connect();
        await waitFor(() => s.accepted.length === 1, 3000, "accepted");
        const remote = s.accepted[0].conn.remoteAddr;
        if (where === "tcp") {
          assert.deepEqual(remote, {
            transport: "tcp",
            hostname: "127.0.0.1",
            port: client.socket.localPort,
          });
        } else assert.deepEqual(remote, { transport: "unix", path: "" });
        client.socket.destroy();
        await s.listener.close();
      });

      it("pause() holds data back; resume() delivers it, in order", async () => {
        const s = await serve(transport, where, (a, chunk) => {
          if (chunk[0] === 0x61) a.conn.pause();
        });
        const client = await s.connect();
        client.socket.write("a");
        await waitFor(() => s.accepted[0]?.data.length === 1, 3000, "the first chunk");
        for (let i = 0; i < 5; i++) {
          client.socket.write(`b${i}`);
          await sleep(10);
        }
        await sleep(100);
        const accepted = s.accepted[0];
        assert.equal(accepted.data.length, 1, "nothing while paused");
        accepted.conn.resume();
        const all = () => accepted.data.map((c) => new TextDecoder().decode(c)).join("");
        await waitFor(() => all() === "ab0b1b2b3b4", 3000, "the rest after resume");
        client.socket.destroy();
        await s.listener.close();
      });

      it("write() turns false while the peer does not read; drain follows once it does; nothing is lost", async () => {
        const s = await serve(transport, where);
        const client = await s.connect();
        client.socket.pause();
        await waitFor(() => s.accepted.length === 1, 3000, "accepted");
        const accepted = s.accepted[0];
        const chunk = new Uint8Array(65536);
        let sent = 0;
        let full = false;
        // Bounded: 4096 chunks (256 MiB) would be far past any socket buffer.
        for (let i = 0; i < 4096 && !full; i++) {
          chunk.fill(i & 255);
          full = !accepted.conn.write(chunk.slice());
          sent++;
          if (i % 16 === 15) await sleep(1);
        }
        assert.equal(full, true, "write() returned false");
        assert.equal(accepted.drains, 0);
        client.socket.resume();
        await waitFor(() => accepted.drains > 0, 10000, "drain");
        await waitFor(() => client.received.length === sent * 65536, 10000, "all bytes");
        const received = client.received;
        for (let i = 0; i < sent; i++) {
          assert.equal(received[i * 65536], i & 255, `chunk ${i} in order`);
          assert.equal(received[i * 65536 + 65535], i & 255);
        }
        client.socket.destroy();
        await s.listener.close();
      });

      it("end(): queued bytes, then FIN; input sent afterwards is dropped without a reset", async () => {
        const s = await serve(transport, where, (a) => {
          a.conn.write(text.encode("bye"));
          a.conn.end();
        });
        const client = await s.connect();
        client.socket.write("hi");
        await waitFor(() => client.ended, 3000, "FIN");
        assert.equal(client.text, "bye");
        client.socket.write("late input, after the FIN");
        await sleep(50);
        client.socket.end();
        await within(client.closed, 6000, "the connection closes");
        assert.equal(client.error, null, "no reset");
        await within(s.accepted[0].closed, 6000, "the close handler ran");
        assert.equal(s.accepted[0].closes, 1);
        assert.equal(s.accepted[0].data.length, 1, "the late input was not delivered");
        assert.equal(
          s.accepted[0].conn.write(text.encode("x")),
          true,
          "writes after the end are ignored",
        );
        await s.listener.close();
      });

      it("end() after a write that filled the socket still sends everything before the FIN", async () => {
        const s = await serve(transport, where);
        const client = await s.connect();
        client.socket.pause();
        await waitFor(() => s.accepted.length === 1, 3000, "accepted");
        const accepted = s.accepted[0];
        const big = new Uint8Array(4 << 20).fill(5);
        accepted.conn.write(big);
        accepted.conn.write(text.encode("tail"));
        accepted.conn.end();
        client.socket.resume();
        await waitFor(() => client.ended, 10000, "FIN");
        const received = client.received;
        assert.equal(received.length, big.length + 4);
        assert.equal(new TextDecoder().decode(received.subarray(big.length)), "tail");
        client.socket.destroy();
        await s.listener.close();
      });

      it("destroy(): the close handler runs once and the peer sees the close", async () => {
        const s = await serve(transport, where);
        const client = await s.connect();
        await waitFor(() => s.accepted.length === 1, 3000, "accepted");
        const accepted = s.accepted[0];
        accepted.conn.destroy();
        accepted.conn.destroy();
        await waitFor(
          () => client.ended || client.error !== null,
          3000,
          "the client sees the close",
        );
        await sleep(20);
        assert.equal(accepted.closes, 1);
        await s.listener.close();
      });

      it("the peer closing runs the close handler once", async () => {
        const s = await serve(transport, where);
        const client = await s.connect();
        await waitFor(() => s.accepted.length === 1, 3000, "accepted");
        client.socket.end();
        await within(s.accepted[0].closed, 3000, "close handler");
        await sleep(20);
        assert.equal(s.accepted[0].closes, 1);
        await s.listener.close();
      });

      it("close() stops accepting; open connections keep working", async () => {
        const s = await serve(transport, where, (a) => a.conn.write(text.encode("pong")));
        const client = await s.connect();
        await waitFor(() => s.accepted.length === 1, 3000, "accepted");
        const closing = s.listener.close();
        await assert.rejects(s.connect());
        if (where === "unix") {
          const addr = s.listener.addr as { path: string };
          assert.equal(fs.existsSync(addr.path), false, "the socket file is gone");
        }
        client.socket.write("ping");
        await waitFor(() => client.text === "pong", 3000, "an open connection answers");
        client.socket.destroy();
        await within(closing, 3000, "close() resolves once the last connection is gone");
      });
    });
  }
}
