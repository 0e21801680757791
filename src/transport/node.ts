// The node:net shim. Deno and Bun implement node:net too, so this one file
// serves all three runtimes until a native fast path measures faster.
import * as net from "node:net";
import cluster from "node:cluster";
import * as fs from "node:fs";
import { setImmediate } from "node:timers";
import { fdLimit } from "./fd_limit.ts";
import { gather } from "./join.ts";
import { bindUnixShared } from "./cluster_socket.ts";
import { type ConnectProbe, netProbe } from "./socket_probe.ts";
import { bindUnix, DEFAULT_SOCKET_MODE, type FileId, removeIfOurs } from "./unix_socket.ts";
import type {
  Addr,
  Conn,
  ConnectOptions,
  ConnHandlers,
  Listener,
  ListenOptions,
  Transport,
} from "./types.ts";

/** Queued bytes that force an immediate flush. */
const FLUSH_LIMIT = 65536;
/** How long an ended connection waits for the peer's FIN. */
const LINGER_MS = 5000;

class NodeConn implements Conn {
  readonly remoteAddr: Addr;
  #socket: net.Socket;
  #handlers: ConnHandlers | null = null;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #scheduled = false;
  #needDrain = false;
  #closed = false;
  #ending = false;

  /** `unixPeer` is set for Unix sockets, whose peers are unnamed. */
  constructor(socket: net.Socket, unixPeer: string | undefined) {
    this.#socket = socket;
    this.remoteAddr = unixPeer !== undefined ? { transport: "unix", path: unixPeer } : {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
  }

  start(handlers: ConnHandlers): void {
    this.#handlers = handlers;
    const socket = this.#socket;
    socket.on("data", (chunk: Uint8Array) => {
      if (!this.#ending) handlers.data(chunk);
    });
    socket.on("drain", () => {
      this.#needDrain = false;
      handlers.drain();
    });
    // Resets and EPIPE are routine: they end up as a close, never a throw.
    socket.on("error", () => {});
    socket.on("close", () => this.#onClose());
    socket.on("end", () => {
      if (!this.#ending) socket.destroy();
    });
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    this.#handlers?.close();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  write(bytes: Uint8Array): boolean {
    if (this.#closed || this.#ending) return true;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (this.#queued >= FLUSH_LIMIT) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushLater);
    }
    return !this.#needDrain;
  }

  #flushLater = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    const queue = this.#queue;
    if (queue.length === 0 || this.#closed) return;
    const socket = this.#socket;
    let ok: boolean;
    const buffers = queue.length === 1 ? queue : gather(queue);
    if (buffers.length === 1) ok = socket.write(buffers[0]);
    else {
      socket.cork();
      ok = true;
      for (const buffer of buffers) ok = socket.write(buffer) && ok;
      socket.uncork();
    }
    this.#queue = [];
    this.#queued = 0;
    if (!ok) this.#needDrain = true;
  }

  end(): void {
    if (this.#closed || this.#ending) return;
    this.#flush();
    this.#ending = true;
    // FIN first, then keep reading (and dropping) so that unread input does
    // not turn our close into a reset that loses the response.
    this.#socket.end();
    this.#socket.resume();
    const timer = setTimeout(() => this.#socket.destroy(), LINGER_MS);
    (timer as { unref?: () => void }).unref?.();
    this.#socket.once("close", () => clearTimeout(timer));
  }

  destroy(): void {
    this.#socket.destroy();
    this.#onClose();
  }
}

class NodeListener implements Listener {
  readonly addr: Addr;
  #server: net.Server;
  #closed: Promise<void> | undefined;
  #socketFile: FileId | null;

  constructor(server: net.Server, addr: Addr, socketFile: FileId | null) {
    this.#server = server;
    this.addr = addr;
    this.#socketFile = socketFile;
  }

  close(): Promise<void> {
    if (this.#closed === undefined) {
      removeIfOurs(this.#socketFile);
      this.#closed = new Promise((resolve) => this.#server.close(() => resolve()));
    }
    return this.#closed;
  }
}

function listenOn(server: net.Server, target: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(target, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** Binds a Unix socket at `path` with permissions `mode` (see bindUnix and bindUnixShared). */
function listenUnix(
  server: net.Server,
  path: string,
  mode: number,
  probe: ConnectProbe,
): Promise<FileId | null> {
  const bind = (name: string) => listenOn(server, { path: name });
  const unbind = () => new Promise<void>((resolve) => server.close(() => resolve()));
  // A cluster worker's listen is the primary's bind, shared by its siblings.
  if (cluster.isWorker) return bindUnixShared(path, mode, bind, unbind, probe);
  return bindUnix(path, mode, bind, unbind, probe);
}

/**
 * node:net's listen; `probe` is how a socket file in the way is judged
 * (Bun passes its own: its node:net misreports some connect errors).
 *
 * @example
 * ```ts
 * const listener = await listenNode({ hostname: "127.0.0.1", port: 0 }, (conn) => conn.destroy());
 * await listener.close();
 * ```
 */
export async function listenNode(
  options: ListenOptions,
  onConn: (conn: Conn) => void,
  probe: ConnectProbe = netProbe,
): Promise<Listener> {
  let unixPath: string | undefined;
  const server = net.createServer({ noDelay: true }, (socket) => {
    onConn(new NodeConn(socket, unixPath === undefined ? undefined : ""));
  });
  // The app keeps running only as long as someone listens, like Deno.serve.
  server.on("error", () => {});
  let socketFile: FileId | null = null;
  if (options.fd !== undefined) {
    await listenOn(server, { fd: options.fd } as net.ListenOptions);
  } else if (options.path !== undefined) {
    socketFile = await listenUnix(
      server,
      options.path,
      options.mode ?? DEFAULT_SOCKET_MODE,
      probe,
    );
  } else {
    await listenOn(server, { host: options.hostname, port: options.port ?? 0 });
  }
  const bound = server.address();
  let addr: Addr;
  if (options.path !== undefined) {
    // The name we bound may be the temporary one: the socket lives at `path`.
    unixPath = options.path;
    addr = { transport: "unix", path: options.path };
  } else if (typeof bound === "string") {
    unixPath = bound;
    addr = { transport: "unix", path: bound };
  } else if (bound === null || typeof bound.port !== "number") {
    // An inherited Unix socket has no name here: null on Node and Deno, {} on Bun.
    unixPath = options.path ?? "";
    addr = { transport: "unix", path: unixPath };
  } else {
    addr = { transport: "tcp", hostname: bound.address, port: bound.port };
  }
  return new NodeListener(server, addr, socketFile);
}

/** Connects to a server; the Conn's remoteAddr is the server. */
function connect(options: ConnectOptions): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const unix = "path" in options;
    const socket = unix
      ? net.connect({ path: options.path })
      : net.connect({ host: options.hostname, port: options.port, noDelay: true });
    const onError = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      // Until start() attaches its handlers, an error must not throw.
      socket.on("error", () => {});
      resolve(new NodeConn(socket, unix ? options.path : undefined));
    });
  });
}

/** The node:net transport. */
export const nodeTransport: Transport = {
  listen: (options, onConn) => listenNode(options, onConn),
  connect,
  isSocket(fd: number): boolean {
    try {
      return fs.fstatSync(fd).isSocket();
    } catch {
      return false;
    }
  },
  env(name: string): string | undefined {
    return (globalThis as { process?: { env: Record<string, string | undefined> } }).process
      ?.env[name];
  },
  pid(): number {
    return (globalThis as { process?: { pid: number } }).process?.pid ?? 0;
  },
  fdLimit,
};
