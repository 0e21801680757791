// examples/php_proxy.ts under `webfcgi dev`, in front of a private PHP-FPM
// pool running examples/php/index.php: HTTP in, PHP out, through the client.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as path from "node:path";
import { requirePeer } from "../support/peers.ts";
import { type PhpFpm, startPhpFpm } from "../support/php_fpm.ts";
import { repoRoot, runtimeCommand, scriptPath } from "../support/runtime.ts";
import { waitFor } from "../support/wait.ts";
import { type Running, spawnTracked } from "./_helpers.ts";

const peer = requirePeer("php-fpm8.2", "php-fpm");
const PHP_ROOT = path.join(repoRoot, "examples", "php");

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, method = "GET", body?: string, type?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("examples/php_proxy.ts: webfcgi dev in front of PHP-FPM", {
  skip: peer.path === null ? peer.why : false,
}, () => {
  let fpm: PhpFpm;
  let dev: Running;
  let base = "";

  before(async () => {
    fpm = await startPhpFpm(peer.path!, 2);
    // The command of the example's header comment, on this runtime.
    const { command, args } = runtimeCommand("cli.ts", [
      "dev",
      scriptPath("examples/php_proxy.ts"),
      "--port",
      "0",
    ]);
    dev = spawnTracked(command, args, { PHP_FPM: `unix:${fpm.socket}`, PHP_ROOT });
    await waitFor(
      () => /http:\/\/127\.0\.0\.1:\d+\//.test(dev.stderr()) || dev.child.exitCode !== null,
      10000,
      "webfcgi dev prints its URL",
    );
    base = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(dev.stderr())?.[1] ?? "";
    assert.notEqual(base, "", dev.stderr());
  });
  after(async () => {
    if (dev !== undefined) {
      const started = Date.now();
      assert.equal(await dev.stop(), 0, `exit status; stderr: ${dev.stderr()}`);
      assert.ok(Date.now() - started < 4000, "stops promptly on SIGTERM");
    }
    await fpm?.stop();
  });

  it("serves the PHP front controller", async () => {
    const answer = await request(`${base}/`);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(answer.body, "Hello from PHP 8 through webfcgi\n");
  });

  it("passes a form post to $_POST and PHP's cookie back", async () => {
    const answer = await request(
      `${base}/form`,
      "POST",
      "name=Ada+Lovelace",
      "application/x-www-form-urlencoded",
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.body, "Thanks, Ada Lovelace\n");
    assert.deepEqual(answer.headers["set-cookie"], [
      "visitor=Ada%20Lovelace; HttpOnly; SameSite=Lax",
    ]);
  });

  it("tells PHP where the script is and what was asked", async () => {
    const answer = await request(`${base}/server?x=1&y=%C3%A9`);
    assert.equal(answer.status, 200);
    const server = JSON.parse(answer.body);
    assert.equal(server.REQUEST_METHOD, "GET");
    assert.equal(server.REQUEST_URI, "/server?x=1&y=%C3%A9");
    assert.equal(server.QUERY_STRING, "x=1&y=%C3%A9");
    assert.equal(server.SCRIPT_NAME, "/index.php");
    assert.equal(server.SCRIPT_FILENAME, path.join(PHP_ROOT, "index.php"));
    assert.equal(server.DOCUMENT_ROOT, PHP_ROOT);
    assert.equal(server.REMOTE_ADDR, "127.0.0.1");
    assert.equal(server.GATEWAY_INTERFACE, "CGI/1.1");
    assert.deepEqual(server.get, { x: "1", y: "é" });
  });

  it("passes PHP's status codes through", async () => {
    const missing = await request(`${base}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body, "No page at /nowhere\n");
    const wrongMethod = await request(`${base}/form`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.allow, "POST");
  });
});
