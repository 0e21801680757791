// The client against a real PHP-FPM (Debian's php-fpm8.2), started by the
// test with its own config and a static pool on a Unix socket.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { FastCGIClient, type FastCGIRequestInit } from "../../client.ts";
import { requirePeer } from "../support/peers.ts";
import { type PhpFpm, startPhpFpm } from "../support/php_fpm.ts";
import { hashStream, pattern, patternStream, sha256 } from "./_helpers.ts";

const MB = 1024 * 1024;
const CHILDREN = 4;
// The scripts sit next to this file's source (Node runs it from .build/).
const here = path.dirname(fileURLToPath(import.meta.url));
const PHP_DIR = path.join(here.replace(`${path.sep}.build${path.sep}`, path.sep), "php");

const peer = requirePeer("php-fpm8.2", "php-fpm");
if (peer.path === null) console.log(`skipping the PHP-FPM tests: ${peer.why}`);

describe("client against PHP-FPM", { skip: peer.path === null ? peer.why : false }, () => {
  let fpm: PhpFpm;
  let client: FastCGIClient;
  const stderr: string[] = [];

  before(async () => {
    fpm = await startPhpFpm(peer.path!, CHILDREN);
    client = new FastCGIClient(`unix:${fpm.socket}`, {
      maxConnections: CHILDREN,
      onStderr: (text) => stderr.push(text),
      params: { DOCUMENT_ROOT: PHP_DIR },
    });
  });

  after(async () => {
    await client?.close();
    await fpm?.stop();
  });

  /** A request for tests/client/php/<script>. */
  function php(script: string, init: FastCGIRequestInit = {}, query = ""): Promise<Response> {
    return client.fetch(`http://php.test/${script}${query}`, {
      ...init,
      params: { SCRIPT_FILENAME: path.join(PHP_DIR, script), ...init.params },
    });
  }

  it("GET with a query ($_GET, $_SERVER, $_COOKIE)", async () => {
    const headers = new Headers({ "X-Test": "yes" });
    headers.append("cookie", "a=1");
    headers.append("cookie", "b=2");
    const response = await php(
      "get.php",
      { headers, params: { REMOTE_ADDR: "203.0.113.7" } },
      "?name=Ada&list[]=x&list[]=y&sp=%20",
    );
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /application\/json/);
    const seen = await response.json();
    assert.deepEqual(seen.get, { name: "Ada", list: ["x", "y"], sp: " " });
    assert.equal(seen.method, "GET");
    assert.equal(seen.uri, "/get.php?name=Ada&list[]=x&list[]=y&sp=%20");
    assert.equal(seen.script_name, "/get.php");
    assert.equal(seen.host, "php.test");
    assert.equal(seen.x_test, "yes");
    assert.deepEqual(seen.cookie, { a: "1", b: "2" });
    assert.equal(seen.https, null);
    assert.equal(seen.remote_addr, "203.0.113.7");
    assert.equal(seen.document_root, PHP_DIR);
  });

  it("POST a form ($_POST), urlencoded and multipart with a file", async () => {
    const urlencoded = await (await php("post.php", {
      method: "POST",
      body: new URLSearchParams({ name: "Ada Lovelace", lang: "en" }),
    })).json();
    assert.deepEqual(urlencoded.post, { name: "Ada Lovelace", lang: "en" });
    assert.match(urlencoded.content_type, /^application\/x-www-form-urlencoded/);

    const form = new FormData();
    form.append("field", "value");
    form.append("upload", new Blob(["file body"], { type: "text/plain" }), "notes.txt");
    const multipart = await (await php("post.php", { method: "POST", body: form })).json();
    assert.deepEqual(multipart.post, { field: "value" });
    assert.deepEqual(multipart.files.upload, { name: "notes.txt", size: 9, body: "file body" });
  });

  it("10 MB upload to php://input: with CONTENT_LENGTH it arrives whole", async () => {
    const bytes = pattern(10 * MB);
    const expected = { length: 10 * MB, sha256: sha256(bytes), content_length: String(10 * MB) };
    const headers = { "content-type": "application/octet-stream" };
    assert.deepEqual(
      await (await php("upload.php", { method: "POST", body: bytes, headers })).json(),
      expected,
    );
    const buffered = await php("upload.php", {
      method: "POST",
      body: patternStream(10 * MB, 100000),
      headers,
      bufferBody: true,
    });
    assert.deepEqual(await buffered.json(), expected);
  });

  it("a streamed body without CONTENT_LENGTH reaches PHP empty (php/php-src#7509); the pool recovers", async () => {
    // Small enough to fit the socket buffer: a larger one can make PHP-FPM
    // close the connection under our writes (a FastCGIConnectionError).
    const response = await php("upload.php", {
      method: "POST",
      body: patternStream(16 * 1024),
      headers: { "content-type": "application/octet-stream" },
    });
    const seen = await response.json();
    assert.equal(seen.length, 0);
    assert.equal(seen.content_length, null);
    // That connection had unread STDIN: it is not reused, so this works.
    for (let i = 0; i < CHILDREN + 1; i++) assert.equal((await php("pid.php")).status, 200);
  });

  it("large output (6 MB) streams through", async () => {
    const size = 6 * MB + 123;
    const response = await php("large.php", {}, `?bytes=${size}`);
    const got = await hashStream(response.body!);
    const block = "0123456789abcdef".repeat(Math.ceil(size / 16)).slice(0, size);
    assert.equal(got.length, size);
    assert.equal(got.sha256, sha256(new TextEncoder().encode(block)));
  });

  it("multiple Set-Cookie headers stay separate", async () => {
    const response = await php("cookies.php");
    const cookies = response.headers.getSetCookie();
    assert.equal(cookies.length, 2);
    assert.equal(cookies[0], "first=one");
    assert.match(cookies[1], /^second=two; path=\/app; HttpOnly$/i);
    assert.equal(response.headers.get("x-multi"), "a, b");
    assert.equal(await response.text(), "cookies set");
  });

  it("a 404 and a 302 from PHP; a missing script is PHP-FPM's 404", async () => {
    const notFound = await php("status.php", {}, "?code=404");
    assert.equal(notFound.status, 404);
    assert.equal(notFound.statusText, "Not Found");
    assert.equal(await notFound.text(), "status 404");

    const redirect = await php("status.php", {}, "?to=https://example.com/next");
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "https://example.com/next");
    await redirect.body?.cancel();

    // PHP turns a local Location into a 302 itself.
    const local = await php("status.php", {}, "?to=/elsewhere");
    assert.equal(local.status, 302);
    assert.equal(local.headers.get("location"), "/elsewhere");
    await local.body?.cancel();

    stderr.length = 0;
    const missing = await php("nope.php");
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /File not found/);
    assert.match(stderr.join(""), /Primary script unknown/);
  });

  it("PHP's error_log() arrives on onStderr", async () => {
    stderr.length = 0;
    const response = await php("stderr.php");
    assert.equal(await response.text(), "logged");
    assert.match(stderr.join(""), /hello from php stderr/);
  });

  it("50 concurrent requests through the pool, at most maxConnections workers", async () => {
    const responses = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          php("pid.php", {}, "?sleep=20").then(async (r) => [r.status, await r.text()] as const),
      ),
    );
    const pids = new Set<string>();
    for (const [status, pid] of responses) {
      assert.equal(status, 200);
      assert.match(pid, /^\d+$/);
      pids.add(pid);
    }
    assert.ok(pids.size >= 1 && pids.size <= CHILDREN, `workers: ${[...pids]}`);
  });
});
