// The Unix socket is created owner+group only (0660, PHP-FPM's listen.mode
// default) unless `mode` says otherwise: other local users cannot connect
// to the app and make it believe they are the web server. The mode is in
// place before the socket is reachable by its name (bound under a
// temporary name, chmod-ed, renamed), whatever the process umask.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { start, tempDir } from "../support/server.ts";

const hello = () => new Response("hello");

async function modeOf(options: { mode?: number }): Promise<number> {
  const dir = tempDir();
  const file = path.join(dir, "app.sock");
  await using s = await start(hello, { path: file, ...options });
  const mode = fs.statSync(file).mode & 0o777;
  assert.ok(fs.statSync(file).isSocket());
  assert.deepEqual(fs.readdirSync(dir), ["app.sock"], "no temporary file left behind");
  const r = await fetchRaw(s.target, { params: GET("/") });
  r.conn.close();
  assert.equal(r.cgi.text, "hello");
  return mode;
}

describe("Unix socket permissions", () => {
  it("default: 0660 (owner and group), not world-connectable", async () => {
    assert.equal(await modeOf({}), 0o660);
  });

  for (const mode of [0o600, 0o660, 0o666, 0o777]) {
    it(`mode ${mode.toString(8)} is applied as given`, async () => {
      assert.equal(await modeOf({ mode }), mode);
    });
  }

  it("the default holds under a permissive umask (000)", async (t) => {
    let previous: number;
    try {
      previous = process.umask(0);
    } catch {
      t.skip("process.umask() is not available on this runtime");
      return;
    }
    try {
      assert.equal(await modeOf({}), 0o660);
    } finally {
      process.umask(previous);
    }
  });

  it("a stale socket file is replaced; the new one gets the mode too", async () => {
    const dir = tempDir();
    const file = path.join(dir, "app.sock");
    const first = await start(hello, { path: file, mode: 0o666 });
    // Simulate a crash: the file stays while nobody listens (closing without shutdown's cleanup).
    fs.renameSync(file, `${file}.keep`);
    await first.server.shutdown();
    fs.renameSync(`${file}.keep`, file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o666);
    await using _s = await start(hello, { path: file });
    assert.equal(fs.statSync(file).mode & 0o777, 0o660);
  });
});
