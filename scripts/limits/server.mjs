// The server under test as the driver sees it: scripts/limits/app.mjs in a
// process of its own on one runtime (started by scripts/soak/runtimes.mjs),
// on a Unix socket in a temp dir, asked for its memory and request counts
// over stdin/stdout.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { fdCount, startApp } from "../soak/runtimes.mjs";

const APP = path.join(path.dirname(fileURLToPath(import.meta.url)), "app.mjs");

export class Server {
  /** @type {Set<Server>} every server not yet stopped, for Ctrl-C */
  static running = new Set();

  #app;
  #dir;
  #waiting = [];
  #lines = "";

  constructor(app, dir, socketPath) {
    this.#app = app;
    this.#dir = dir;
    this.socketPath = socketPath;
    this.pid = app.pid;
    app.child.stdout.setEncoding("utf8");
    app.child.stdout.on("data", (chunk) => this.#onOutput(chunk));
    app.child.stdin.on("error", () => {});
    app.child.once("exit", () => {
      for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error("the server exited"));
    });
  }

  /** Starts the app on `runtime`, allowing `capacity` connections and requests. */
  static async start(runtime, capacity) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `webfcgi-limits-${runtime}-`));
    const socketPath = path.join(dir, "app.sock");
    const limit = String(Math.max(1000, capacity + 100));
    let app;
    try {
      app = await startApp(runtime, socketPath, [
        "--max-connections",
        limit,
        "--max-requests",
        limit,
      ], {
        script: APP,
        stdin: "pipe",
      });
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const server = new Server(app, dir, socketPath);
    Server.running.add(server);
    return server;
  }

  #onOutput(chunk) {
    this.#lines += chunk;
    let newline;
    while ((newline = this.#lines.indexOf("\n")) >= 0) {
      const line = this.#lines.slice(0, newline);
      this.#lines = this.#lines.slice(newline + 1);
      if (!line.startsWith("{")) continue; // "ready <pid>"
      this.#waiting.shift()?.resolve(JSON.parse(line));
    }
  }

  /** Sends one command and resolves with its JSON answer (bounded: `ms`). */
  ask(command, ms = 30000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${command} in ${ms} ms`)), ms);
      this.#waiting.push({
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#app.child.stdin.write(`${command}\n`);
    });
  }

  /** Memory after a full GC, with the request counts. */
  mem() {
    return this.ask("mem");
  }

  stats() {
    return this.ask("stats");
  }

  release() {
    return this.ask("release");
  }

  /** Open descriptors of the server process. */
  fds() {
    return fdCount(this.pid) ?? 0;
  }

  alive() {
    return this.#app.alive();
  }

  /** The server's stderr and stdout, the last 20,000 characters. */
  output() {
    return this.#app.output();
  }

  async stop() {
    Server.running.delete(this);
    this.#app.child.stdin.end();
    await this.#app.stop();
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}
