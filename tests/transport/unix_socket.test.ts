// How a socket file in the way is judged, for every answer a connect can
// give: only ECONNREFUSED (nobody listens) and ENOENT (the file went away)
// let bindUnix replace it. Probes are faked here, so that answers a test
// cannot produce for real (EACCES as root, a connect that never answers)
// are covered too; tests/security/socket_in_use.test.ts has the real ones.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import {
  type ConnectProbe,
  netProbe,
  probeSocket,
  socketState,
} from "../../src/transport/socket_probe.ts";
import { bindUnix, UnixSocketError } from "../../src/transport/unix_socket.ts";
import { tempDir } from "../support/server.ts";

describe("socketState: what a connect answer means", () => {
  const cases: Array<[string, "stale" | "live" | "denied"]> = [
    ["ECONNREFUSED", "stale"],
    ["ENOENT", "stale"],
    ["connected", "live"],
    ["timeout", "live"],
    ["EAGAIN", "live"],
    ["EWOULDBLOCK", "live"],
    ["ETIMEDOUT", "live"],
    ["ECONNRESET", "live"],
    ["EINVAL", "live"],
    ["ENOTSOCK", "live"],
    ["EMFILE", "live"],
    ["errno 4242", "live"],
    ["error", "live"],
    ["", "live"],
    ["EACCES", "denied"],
    ["EPERM", "denied"],
  ];
  for (const [answer, state] of cases) {
    it(`${answer || "(empty)"} -> ${state}`, () => {
      assert.equal(socketState(answer), state);
    });
  }
});

describe("probeSocket", () => {
  it("a connect that never answers is a timeout, and is released", async () => {
    let aborted = false;
    const never: ConnectProbe = (_path, signal) =>
      new Promise(() => signal.addEventListener("abort", () => (aborted = true)));
    const began = Date.now();
    assert.equal(await probeSocket("/nowhere.sock", never, 100), "timeout");
    const took = Date.now() - began;
    assert.ok(took >= 90 && took < 2000, `took ${took} ms`);
    assert.equal(aborted, true, "the probe was told to give up");
  });

  it("an answer within the time is passed through", async () => {
    const refused: ConnectProbe = () => Promise.resolve("ECONNREFUSED");
    assert.equal(await probeSocket("/nowhere.sock", refused, 1000), "ECONNREFUSED");
  });

  it("netProbe on real files: refused for a stale socket, ENOENT for none, connected for a live one", async () => {
    const dir = tempDir();
    const live = path.join(dir, "live.sock");
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen({ path: live }, resolve));
    try {
      assert.equal(await probeSocket(live, netProbe), "connected");
      const stale = await staleSocket(dir);
      assert.equal(await probeSocket(stale, netProbe), "ECONNREFUSED");
      assert.equal(await probeSocket(path.join(dir, "none.sock"), netProbe), "ENOENT");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/** A socket file nobody listens on, as a killed process leaves it. */
async function staleSocket(dir: string): Promise<string> {
  const file = path.join(dir, `stale-${Math.random().toString(36).slice(2)}.sock`);
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ path: file }, resolve));
  // Closing unlinks the bound name: keep the file by moving it aside meanwhile.
  fs.renameSync(file, `${file}.keep`);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.renameSync(`${file}.keep`, file);
  return file;
}

describe("bindUnix with a socket file in the way", () => {
  const replaced = ["ECONNREFUSED", "ENOENT"];
  const inUse = ["connected", "timeout", "EAGAIN", "ETIMEDOUT", "EINVAL", "errno 4242"];
  const denied = ["EACCES", "EPERM"];

  async function attempt(answer: string) {
    const dir = tempDir();
    const file = await staleSocket(dir);
    const before = fs.lstatSync(file).ino;
    const server = net.createServer();
    let bound = 0;
    const result = await bindUnix(
      file,
      0o600,
      (name) => {
        bound++;
        return new Promise((resolve) => server.listen({ path: name }, () => resolve()));
      },
      () => new Promise((resolve) => server.close(() => resolve())),
      () => Promise.resolve(answer),
    ).then((id) => ({ id }), (error: unknown) => ({ error }));
    const after = fs.lstatSync(file);
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    return { dir, file, before, after, bound, result };
  }

  for (const answer of replaced) {
    it(`${answer}: the stale file is replaced by ours, with its mode`, async () => {
      const { dir, before, after, bound, result } = await attempt(answer);
      assert.ok("id" in result, `bound: ${"error" in result ? result.error : ""}`);
      assert.equal(bound, 1);
      assert.notEqual(after.ino, before, "a new socket file");
      assert.equal(result.id?.ino, after.ino, "the one we will remove on close");
      assert.equal(after.mode & 0o777, 0o600);
      assert.equal(fs.readdirSync(dir).length, 1, "no temporary name left");
    });
  }

  for (const answer of [...inUse, ...denied]) {
    const code = denied.includes(answer) ? "EACCES" : "EADDRINUSE";
    it(`${answer}: ${code}, the file is left alone and nothing is bound`, async () => {
      const { dir, file, before, after, bound, result } = await attempt(answer);
      assert.ok("error" in result, "bindUnix must refuse");
      const error = result.error as UnixSocketError;
      assert.ok(error instanceof UnixSocketError, String(error));
      assert.equal(error.code, code);
      assert.equal(error.path, file);
      assert.equal(error.probe, answer);
      assert.match(error.message, code === "EACCES" ? /may not connect/ : /address already in use/);
      assert.equal(bound, 0);
      assert.equal(after.ino, before, "the same file");
      assert.deepEqual(fs.readdirSync(dir), [path.basename(file)]);
    });
  }

  it("a file that is not a socket is in use without a probe", async () => {
    const dir = tempDir();
    const file = path.join(dir, "plain");
    fs.writeFileSync(file, "precious");
    let probed = false;
    const error = await bindUnix(
      file,
      0o600,
      () => Promise.reject(new Error("must not bind")),
      () => Promise.resolve(),
      () => {
        probed = true;
        return Promise.resolve("ECONNREFUSED");
      },
    ).catch((e) => e);
    assert.ok(error instanceof UnixSocketError);
    assert.equal(error.code, "EADDRINUSE");
    assert.equal(probed, false);
    assert.equal(fs.readFileSync(file, "utf8"), "precious");
  });

  it("a stale file swapped for another file during the probe is not replaced", async () => {
    const dir = tempDir();
    const file = await staleSocket(dir);
    const swap: ConnectProbe = () => {
      fs.unlinkSync(file);
      fs.writeFileSync(file, "arrived meanwhile");
      return Promise.resolve("ECONNREFUSED");
    };
    const error = await bindUnix(
      file,
      0o600,
      () => Promise.reject(new Error("must not bind")),
      () => Promise.resolve(),
      swap,
    ).catch((e) => e);
    assert.ok(error instanceof UnixSocketError, String(error));
    assert.equal(error.code, "EADDRINUSE");
    assert.equal(fs.readFileSync(file, "utf8"), "arrived meanwhile");
  });

  it("a file that appears at a free path while we bind is not replaced", async () => {
    const dir = tempDir();
    const file = path.join(dir, "app.sock");
    const server = net.createServer();
    const error = await bindUnix(
      file,
      0o600,
      async (name) => {
        await new Promise<void>((resolve) => server.listen({ path: name }, () => resolve()));
        fs.writeFileSync(file, "arrived meanwhile");
      },
      () => new Promise((resolve) => server.close(() => resolve())),
    ).catch((e) => e);
    assert.ok(error instanceof UnixSocketError, String(error));
    assert.equal(error.code, "EADDRINUSE");
    assert.equal(fs.readFileSync(file, "utf8"), "arrived meanwhile");
    assert.equal(server.listening, false, "our socket was closed again");
    assert.deepEqual(fs.readdirSync(dir), ["app.sock"], "and its temporary name removed");
  });
});
