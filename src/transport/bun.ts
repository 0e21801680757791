// Bun's own sockets (Bun.listen): the responder's accepted connections skip
// the node:net layer, which costs a quarter of the CPU per request on Bun.
// Inherited fds (no documented Bun API), cluster workers (which share the
// primary's socket) and the client stay on node:net.
import cluster from "node:cluster";
import { gather } from "./join.ts";
import { bunProbe } from "./bun_probe.ts";
import { listenNode, nodeTransport } from "./node.ts";
import type { Addr, Conn, ConnHandlers, Listener, ListenOptions, Transport } from "./types.ts";
import { bindUnix, DEFAULT_SOCKET_MODE, type FileId, removeIfOurs } from "./unix_socket.ts";

/** The few members of a Bun socket used here (no Bun types in the tsc build). */
export interface BunSocket {
  data: BunNativeConn | undefined;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  write(bytes: Uint8Array): number;
  pause(): void;
  resume(): void;
  shutdown(): void;
  end(): void;
  setNoDelay?(noDelay?: boolean): boolean;
}

/** Queued bytes that are sent at once instead of at the end of the turn. */
const FLUSH_LIMIT = 65536;
/** Unsent bytes above which write() asks the caller to wait for drain. */
const HIGH_WATER = 65536;
/** How long an ended connection waits for the peer's FIN. */
const LINGER_MS = 5000;

/** One accepted Bun socket behind the Conn interface. */
export class BunNativeConn implements Conn {
  readonly remoteAddr: Addr;
  #socket: BunSocket;
  #handlers: ConnHandlers | null = null;
  /** Data that arrived before start(). */
  #early: Uint8Array[] = [];
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** What the socket did not take yet, written on drain. */
  #unsent: Uint8Array[] | null = null;
  #unsentSize = 0;
  #scheduled = false;
  #needDrain = false;
  #ending = false;
  #shut = false;
  #closed = false;
  #linger: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: BunSocket, unix: boolean) {
    this.#socket = socket;
    this.remoteAddr = unix ? { transport: "unix", path: "" } : {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
  }

  start(handlers: ConnHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    for (const chunk of early) if (!this.#closed && !this.#ending) handlers.data(chunk);
  }

  // --- events from the socket handlers ---

  onData(chunk: Uint8Array): void {
    if (this.#ending || this.#closed) return;
    if (this.#handlers === null) this.#early.push(chunk);
    else this.#handlers.data(chunk);
  }

  onDrain(): void {
    if (this.#closed) return;
    const unsent = this.#unsent;
    if (unsent !== null) {
      this.#unsent = null;
      this.#send(unsent, this.#unsentSize);
      if (this.#unsent !== null) return;
    }
    this.#flush();
    if (this.#unsent !== null) return;
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#handlers?.drain();
    }
    if (this.#ending) this.#shutdown();
  }

  /** The peer sent FIN. */
  onEnd(): void {
    if (this.#ending) this.#socket.end();
    else this.destroy();
  }

  onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#linger);
    this.#queue = [];
    this.#queued = 0;
    this.#unsent = null;
    this.#handlers?.close();
  }

  // --- Conn ---

  pause(): void {
    if (!this.#closed) this.#socket.pause();
  }

  resume(): void {
    if (!this.#closed) this.#socket.resume();
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#ending) return true;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (this.#unsent === null) {
      if (this.#queued >= FLUSH_LIMIT) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#flushLater);
      }
    }
    if (this.#unsent !== null && this.#queued + this.#unsentSize >= HIGH_WATER) {
      this.#needDrain = true;
    }
    return !this.#needDrain;
  }

  #flushLater = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  /** Sends what is queued, unless the socket is still full (drain sends it). */
  #flush(): void {
    if (this.#queue.length === 0 || this.#closed || this.#unsent !== null) return;
    const queue = this.#queue;
    const size = this.#queued;
    this.#queue = [];
    this.#queued = 0;
    this.#send(queue, size);
  }

  /**
   * Writes `pieces` in order; what the socket does not take waits for drain,
   * as it is (no copy).
   */
  #send(pieces: Uint8Array[], size: number): void {
    const socket = this.#socket;
    if (pieces.length > 1) pieces = gather(pieces);
    let sent = 0;
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      const written = Math.max(0, socket.write(piece));
      sent += written;
      if (written < piece.length) {
        const rest = pieces.slice(i);
        rest[0] = piece.subarray(written);
        this.#unsent = rest;
        this.#unsentSize = size - sent;
        return;
      }
    }
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#flush();
    this.#ending = true;
    this.#linger = setTimeout(() => this.destroy(), LINGER_MS);
    (this.#linger as { unref?: () => void }).unref?.();
    // Keep reading (and dropping) so that unread input does not turn our
    // close into a reset that loses the response.
    this.#socket.resume();
    if (this.#unsent === null) this.#shutdown();
  }

  /** Everything is written: send FIN. */
  #shutdown(): void {
    if (this.#shut) return;
    this.#shut = true;
    // No argument: the write side only (FIN); reading goes on. Bun's
    // shutdown(true) closes the connection instead.
    this.#socket.shutdown();
  }

  destroy(): void {
    if (this.#closed) return;
    // end() closes the socket (FIN, as node's destroy); terminate() would
    // reset it, and a peer still connecting sees ECONNRESET.
    this.#socket.end();
    this.onClose();
  }
}

/** The handlers Bun.listen takes; each socket's conn lives in `socket.data`. */
export const bunSocketHandlers = {
  data(socket: BunSocket, chunk: Uint8Array): void {
    socket.data?.onData(chunk);
  },
  drain(socket: BunSocket): void {
    socket.data?.onDrain();
  },
  end(socket: BunSocket): void {
    socket.data?.onEnd();
  },
  close(socket: BunSocket): void {
    socket.data?.onClose();
  },
  error(socket: BunSocket): void {
    // Resets are routine: they end up as a close, never a throw.
    socket.data?.destroy();
  },
};

/** The part of Bun's API used here. */
interface BunApi {
  listen(options: {
    unix?: string;
    hostname?: string;
    port?: number;
    socket: typeof bunSocketHandlers & { open(socket: BunSocket): void };
  }): BunServer;
}

interface BunServer {
  readonly hostname?: string;
  readonly port?: number;
  stop(closeActive?: boolean): void;
}

class BunListener implements Listener {
  readonly addr: Addr;
  #server: BunServer;
  #socketFile: FileId | null;
  #closed = false;

  constructor(server: BunServer, addr: Addr, socketFile: FileId | null) {
    this.#server = server;
    this.addr = addr;
    this.#socketFile = socketFile;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      removeIfOurs(this.#socketFile);
      // Stops accepting; open connections finish on their own.
      this.#server.stop(false);
    }
    return Promise.resolve();
  }
}

/**
 * Bun.listen throws synchronously, with the code only in `code`: turn that
 * into a rejection worded like node:net's ("listen EADDRINUSE: ...").
 */
function bunListen(bun: BunApi, options: Parameters<BunApi["listen"]>[0]): Promise<BunServer> {
  try {
    return Promise.resolve(bun.listen(options));
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    if (typeof code !== "string") return Promise.reject(error);
    const where = options.unix ?? `${options.hostname}:${options.port}`;
    return Promise.reject(
      Object.assign(new Error(`listen ${code}: cannot listen on ${where}`, { cause: error }), {
        code,
      }),
    );
  }
}

async function listen(options: ListenOptions, onConn: (conn: Conn) => void): Promise<Listener> {
  if (options.fd !== undefined || cluster.isWorker) return listenNode(options, onConn, bunProbe);
  const bun = (globalThis as { Bun?: BunApi }).Bun!;
  const unix = options.path !== undefined;
  const socket = {
    ...bunSocketHandlers,
    open(raw: BunSocket) {
      const conn = new BunNativeConn(raw, unix);
      raw.data = conn;
      if (!unix) raw.setNoDelay?.(true);
      onConn(conn);
    },
  };
  if (options.path !== undefined) {
    const path = options.path;
    let server: BunServer | null = null;
    const socketFile = await bindUnix(
      path,
      options.mode ?? DEFAULT_SOCKET_MODE,
      async (name) => {
        server = await bunListen(bun, { unix: name, socket });
      },
      () => {
        server?.stop(true);
        return Promise.resolve();
      },
      bunProbe,
    );
    return new BunListener(server!, { transport: "unix", path }, socketFile);
  }
  const server = await bunListen(bun, {
    hostname: options.hostname,
    port: options.port ?? 0,
    socket,
  });
  const addr: Addr = {
    transport: "tcp",
    hostname: server.hostname ?? options.hostname ?? "",
    port: server.port ?? 0,
  };
  return new BunListener(server, addr, null);
}

/** node:net for everything but accepted responder connections, which use Bun.listen. */
export const bunTransport: Transport = { ...nodeTransport, listen };
