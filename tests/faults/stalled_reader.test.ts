// Fault: a web server that stops reading entirely while the handler streams
// an endless body. What the operator sees: memory stays flat, because the
// handler's pull() is not called once the socket is full (the handler
// produces a few MB at most, whatever the body's length). When the web
// server finally gives up and closes, the stream is cancelled and the app
// keeps serving.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { which } from "../fixtures/spawn.ts";
import { GET, requestBytes } from "../support/fcgi_client.ts";
import { repoRoot } from "../support/runtime.ts";
import { start } from "../support/server.ts";
import {
  assertServing,
  eventually,
  fmt,
  MB,
  rss,
  sleep,
  watchRejections,
  within,
} from "./_helpers.ts";

const rejections = watchRejections();
after(() => rejections.stop());

const node = which("node");
const CHUNK = 64 * 1024;

for (const unix of [true, false]) {
  // Loopback TCP autotunes its socket buffers to a few MB per side (3.8 MB
  // was produced here); a Unix socket holds a few hundred KB (0.3 MB).
  const bound = unix ? 8 * MB : 16 * MB;
  describe(`fault: a peer that stops reading (${unix ? "unix" : "tcp"})`, () => {
    it(
      `an endless body: the handler produces less than ${
        fmt(bound)
      }, RSS stays flat, the app keeps serving`,
      {
        timeout: 30000,
        skip: node === null ? "needs node on PATH for the stalled peer" : false,
      },
      async () => {
        let pulled = 0;
        let cancelled: unknown = null;
        await using s = await start((request) => {
          if (new URL(request.url).pathname === "/health") return new Response("healthy");
          return new Response(
            new ReadableStream<Uint8Array>({
              pull(controller) {
                // a fresh buffer each time, as an app producing data would
                controller.enqueue(new Uint8Array(CHUNK).fill(pulled & 0xff));
                pulled += CHUNK;
              },
              cancel(reason) {
                cancelled = reason ?? "cancelled";
              },
            }),
          );
        }, { unix });
        const where = "path" in s.target ? s.target.path : `tcp:127.0.0.1:${s.target.port}`;
        const hex = Buffer.from(requestBytes({ params: GET("/endless") })).toString("hex");
        // A Node peer that sends the request and never reads (it would read one byte after 10 minutes).
        const peer = spawn(node!, [
          path.join(repoRoot, "tests/fixtures/slow_peer.mjs"),
          where,
          hex,
          "600000",
          "600000",
        ], {
          stdio: ["pipe", "ignore", "inherit"],
        });
        try {
          await eventually(() => pulled > 0, 5000, "the handler starts producing");
          const samples: Array<{ t: number; rss: number; pulled: number }> = [];
          const t0 = Date.now();
          while (Date.now() - t0 < 2000) {
            samples.push({ t: Date.now() - t0, rss: rss(), pulled });
            await sleep(100);
          }
          const last = samples[samples.length - 1];
          const mid = samples.find((x) => x.t >= 1000)!;
          const rssValues = samples.map((x) => x.rss);
          const growth = Math.max(...rssValues.filter((_, i) => samples[i].t >= 500)) -
            samples.find((x) => x.t >= 500)!.rss;
          console.log(
            `# stalled ${unix ? "unix" : "tcp"} peer: handler produced ${
              fmt(last.pulled)
            } in 2 s; ` +
              `RSS ${fmt(Math.min(...rssValues))}..${
                fmt(Math.max(...rssValues))
              }, growth after 0.5 s ${fmt(growth)}`,
          );
          assert.ok(
            last.pulled < bound,
            `the handler produced ${fmt(last.pulled)} while the peer read nothing`,
          );
          assert.equal(
            last.pulled,
            mid.pulled,
            "pull() was not called in the second half of the stall",
          );
          assert.ok(growth < 16 * MB, `RSS grew ${fmt(growth)} during the stall`);
          await assertServing(s.target, "while a peer is stalled");
        } finally {
          peer.kill("SIGKILL");
        }
        // The web server gives up: the stream is cancelled, nothing stays in flight.
        await eventually(
          () => cancelled !== null,
          5000,
          "the body stream is cancelled once the peer is gone",
        );
        await assertServing(s.target, "after the stalled peer left");
        assert.deepEqual(rejections.list, []);
        await within(s.server.shutdown(), 5000, "shutdown finds nothing in flight");
      },
    );
  });
}
