// A Connection without a socket: the test hands it chunks and sees what it
// writes, whether it paused reading, and can make the socket "full".
import type { ServerConfig } from "../../src/responder/config.ts";
import type { ConnectionOwner } from "../../src/responder/connection.ts";
import type { Addr, Conn, ConnHandlers } from "../../src/transport/types.ts";

export class FakeConn implements Conn {
  readonly remoteAddr: Addr = { transport: "tcp", hostname: "127.0.0.1", port: 40000 };
  handlers: ConnHandlers | null = null;
  readonly out: Uint8Array[] = [];
  outBytes = 0;
  paused = false;
  /** Times reading was paused. */
  pauses = 0;
  ended = false;
  closed = false;
  destroyed = false;
  /** Bytes the socket takes before write() returns false (a peer that does not read). */
  room = Infinity;

  start(handlers: ConnHandlers): void {
    this.handlers = handlers;
  }
  pause(): void {
    if (!this.paused) this.pauses++;
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  write(bytes: Uint8Array): boolean {
    if (this.closed || this.ended) return true;
    this.out.push(bytes);
    this.outBytes += bytes.length;
    return this.outBytes < this.room;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.#close();
  }
  /** The peer read everything: the socket is empty again. */
  drain(extraRoom = Infinity): void {
    this.room = this.outBytes + extraRoom;
    this.handlers?.drain();
  }
  /** The web server closes the connection. */
  peerClose(): void {
    this.#close();
  }
  #close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers?.close();
  }
}

export class FakeOwner implements ConnectionOwner {
  activeRequests = 0;
  shuttingDown = false;
  now = Date.now();
  closedCount = 0;
  constructor(readonly config: ServerConfig) {}
  closed(): void {
    this.closedCount++;
  }
  requestFinished(): void {}
}
