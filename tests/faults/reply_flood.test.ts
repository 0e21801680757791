// Fault: a peer that floods management records (each answered by us) and
// never reads the answers. Before, every record was read and answered into
// memory (40 MB of 8-byte records grew Bun by 486 MiB); now reading pauses
// while the socket is full, so TCP holds the peer back. The peer is a Node
// process, so that what the kernel took is known exactly.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { which } from "../fixtures/spawn.ts";
import { rec } from "../support/fcgi_client.ts";
import { repoRoot } from "../support/runtime.ts";
import { start } from "../support/server.ts";
import { assertServing, fmt, MB, rss, watchRejections } from "./_helpers.ts";

const rejections = watchRejections();
after(() => rejections.stop());

const node = which("node");
const FLOOD = 40 * MB;

function flood(where: string, record: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      node!,
      [
        path.join(repoRoot, "tests/fixtures/flood_peer.mjs"),
        where,
        Buffer.from(record).toString("hex"),
        String(FLOOD),
      ],
      { timeout: 60000 },
      (error, stdout) => {
        if (error) reject(error);
        else resolve(JSON.parse(stdout.trim().split("\n").pop()!).written);
      },
    );
  });
}

for (const unix of [true, false]) {
  const transport = unix ? "unix" : "tcp";
  describe(`fault: a flood of records we answer, never read (${transport})`, () => {
    for (
      const [name, record] of [["unknown types", rec(42, 0)], ["GET_VALUES", rec(9, 0)]] as const
    ) {
      it(`${name}: the server stops reading; what it takes stays bounded`, {
        skip: node === null ? "node is not installed" : false,
        timeout: 60000,
      }, async () => {
        await using app = await start(() => new Response("healthy"), { unix });
        const where = "path" in app.target ? app.target.path : `tcp:127.0.0.1:${app.target.port}`;
        const before = rss();
        const written = await flood(where, record);
        const growth = rss() - before;
        console.log(
          `# ${transport} ${name}: the server took ${fmt(written)} of ${fmt(FLOOD)}, rss +${
            fmt(growth)
          }`,
        );
        // Socket buffers on both sides hold a few MB (TCP loopback up to ~6 MB).
        assert.ok(written <= 16 * MB, `the server took ${fmt(written)} of ${fmt(FLOOD)}`);
        await assertServing(app.target, "after the flood");
      });
    }
  });
}

it("no unhandled rejection happened", () => {
  assert.deepEqual(rejections.list, []);
});
