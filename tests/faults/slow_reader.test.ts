// Fault: a peer that reads the response one byte every 50 ms for two
// seconds, then reads the rest at full speed. What the user sees: the whole
// response, byte for byte, when it finally reads it; meanwhile the handler
// is held back by backpressure (it does not produce the whole body into
// memory), and other requests are served.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { Buffer } from "node:buffer";
import * as path from "node:path";
import { GET, requestBytes } from "../support/fcgi_client.ts";
import { repoRoot } from "../support/runtime.ts";
import { which } from "../fixtures/spawn.ts";
import { start } from "../support/server.ts";
import { assertServing, fmt, MB, watchRejections, within } from "./_helpers.ts";

const rejections = watchRejections();
after(() => rejections.stop());

const TOTAL = 16 * MB;
const CHUNK = 256 * 1024;

function chunk(k: number): Uint8Array {
  const out = new Uint8Array(CHUNK);
  for (let i = 0; i < CHUNK; i += 4096) out.fill((k * 7 + i / 4096) & 0xff, i, i + 4096);
  return out;
}

const node = which("node");

describe("fault: a peer that reads one byte every 50 ms", () => {
  it("gets the whole response intact when it finally reads; the handler is held back meanwhile", {
    timeout: 60000,
    skip: node === null ? "needs node on PATH for the slow peer" : false,
  }, async () => {
    let pulled = 0;
    await using s = await start((request) => {
      if (new URL(request.url).pathname === "/health") return new Response("healthy");
      let k = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pulled >= TOTAL) return controller.close();
            controller.enqueue(chunk(k++));
            pulled += CHUNK;
          },
        }),
      );
    }, { unix: true });
    // The peer runs in a Node process: there, a paused socket reads from the
    // kernel only as the peer asks, so the app really sees a slow reader.
    const hex = Buffer.from(requestBytes({ params: GET("/slow") })).toString("hex");
    const peer = spawn(node!, [
      path.join(repoRoot, "tests/fixtures/slow_peer.mjs"),
      (s.target as { path: string }).path,
      hex,
      "50",
      "2000",
    ], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    const lines: Array<() => void> = [];
    peer.stdout!.on("data", (c: Uint8Array) => {
      out += new TextDecoder().decode(c);
      for (const wake of lines.splice(0)) wake();
    });
    const line = (pattern: RegExp) =>
      within(
        new Promise<RegExpExecArray>((resolve) => {
          const check = () => {
            const m = pattern.exec(out);
            if (m) resolve(m);
            else lines.push(check);
          };
          check();
        }),
        30000,
        `the slow peer prints ${pattern}`,
      );
    try {
      const slow = await line(/slow-done (\d+)/);
      const slowBytes = Number(slow[1]);
      const pulledWhileSlow = pulled;
      console.log(
        `# slow phase: the peer read ${slowBytes} bytes in 2 s; the handler had produced ${
          fmt(pulledWhileSlow)
        } of ${fmt(TOTAL)}`,
      );
      assert.ok(slowBytes >= 20 && slowBytes <= 41, `about one byte per 50 ms (${slowBytes})`);
      assert.ok(
        pulledWhileSlow <= 4 * MB,
        `backpressure held the handler back (${fmt(pulledWhileSlow)} produced)`,
      );
      // Another request is served meanwhile.
      await assertServing(s.target, "while the slow peer holds its response");
      peer.stdin!.write("go\n");
      const result = JSON.parse((await line(/^\{.*\}$/m))[0]);
      const expected = createHash("sha256");
      for (let k = 0; k < TOTAL / CHUNK; k++) expected.update(chunk(k));
      assert.equal(result.leftover, 0, "whole records only");
      assert.equal(result.status, "Status: 200 ");
      assert.equal(result.appStatus, 0);
      assert.equal(result.protocolStatus, 0);
      assert.equal(result.bodyBytes, TOTAL);
      assert.equal(result.bodySha256, expected.digest("hex"), "the body is intact");
      assert.deepEqual(rejections.list, []);
    } finally {
      peer.kill("SIGKILL");
    }
  });
});
