// Fault: the listening Unix socket file is deleted while the app runs (a
// cleanup job, a careless deploy script, another instance starting). What
// the user sees: connections already open keep working; new connections
// fail with ENOENT (nginx: "connect() to unix:... failed (2: No such file or
// directory)", a 502) because nothing can reach the socket by name any
// more; the app itself is unaffected and shuts down cleanly. Restarting it
// (or starting another instance on the path) makes it reachable again, and
// the old instance's shutdown never removes the new instance's socket file.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { GET, parseCgi, RawConn, requestBytes } from "../support/fcgi_client.ts";
import { start, tempDir } from "../support/server.ts";
import { assertServing, watchRejections, within } from "./_helpers.ts";

const rejections = watchRejections();
after(() => rejections.stop());

const handler = (name: string) => (request: Request) => {
  const p = new URL(request.url).pathname;
  return new Response(p === "/health" ? "healthy" : `${name} ${p}`);
};

async function ask(conn: RawConn, uri: string): Promise<string> {
  conn.clear();
  await conn.write(requestBytes({ id: 1, keepConn: true, params: GET(uri) }));
  return parseCgi((await conn.reply(1, 5000)).stdout).text;
}

describe("fault: the listening Unix socket file is deleted", () => {
  it(
    "open connections keep working, new ones get ENOENT, shutdown is clean",
    { timeout: 20000 },
    async () => {
      const file = path.join(tempDir(), "app.sock");
      const s = await start(handler("a"), { path: file });
      const open = await RawConn.connect({ path: file });
      assert.equal(await ask(open, "/before"), "a /before");
      fs.unlinkSync(file);
      for (let i = 0; i < 3; i++) {
        assert.equal(
          await ask(open, `/after-${i}`),
          `a /after-${i}`,
          "the open connection still works",
        );
      }
      await assert.rejects(RawConn.connect({ path: file }), (error: NodeJS.ErrnoException) => {
        assert.equal(error.code, "ENOENT");
        return true;
      }, "a new connection cannot find the socket");
      await within(s.server.shutdown(), 5000, "shutdown with the file gone");
      await within(open.closed, 5000, "the open, idle connection is closed by shutdown");
      assert.equal(fs.existsSync(file), false, "nothing recreated");
      assert.deepEqual(rejections.list, []);
    },
  );

  it(
    "a new server on the same path serves; the old one's shutdown leaves the new socket file alone",
    {
      timeout: 20000,
    },
    async () => {
      const file = path.join(tempDir(), "app.sock");
      const old = await start(handler("old"), { path: file });
      const open = await RawConn.connect({ path: file });
      assert.equal(await ask(open, "/x"), "old /x");
      fs.unlinkSync(file);
      await using fresh = await start(handler("new"), { path: file });
      await assertServing({ path: file }, "the new instance");
      assert.equal(
        await ask(open, "/y"),
        "old /y",
        "the old instance still serves its open connection",
      );
      await within(old.server.shutdown(), 5000, "the old instance shuts down");
      assert.equal(fs.existsSync(file), true, "the new instance's socket file is still there");
      const again = await RawConn.connect({ path: file });
      assert.equal(await ask(again, "/z"), "new /z", "and it still serves");
      again.close();
      await fresh.server.shutdown();
      assert.equal(fs.existsSync(file), false, "the new instance removes its own file");
    },
  );

  it("the server's own socket file is replaced atomically: it never exists with another mode", async () => {
    // Bound under a temporary name, chmod-ed, then renamed into place: the
    // name appears with its final permissions, and no temporary file is left.
    const dir = tempDir();
    const file = path.join(dir, "app.sock");
    await using _s = await start(handler("m"), { path: file, mode: 0o600 });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir), ["app.sock"]);
  });
});
