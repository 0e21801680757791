// Params are data: a request's CGI params never become environment, proxy
// settings or code. httpoxy (CVE-2016-5385 and friends): a client sending
// `Proxy: http://evil` makes the web server pass HTTP_PROXY, which CGI
// programs once read as their proxy setting. Here it is only the request
// header `proxy`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { repoRoot } from "../support/runtime.ts";
import { start } from "../support/server.ts";

/** Every .ts file under src/, with its text. */
function sources(): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts")) {
        out.push({ file: path.relative(repoRoot, full), text: fs.readFileSync(full, "utf8") });
      }
    }
  };
  walk(path.join(repoRoot, "src"));
  return out;
}

/** The environment variables the library reads, by name: each one reviewed. */
const ENV_READ = new Set(["FCGI_WEB_SERVER_ADDRS", "LISTEN_PID", "LISTEN_FDS"]);

describe("httpoxy: params are data, never proxy settings or environment", () => {
  it("no code under src/ reads a proxy variable, and only reviewed environment variables are read", () => {
    const files = sources();
    assert.ok(files.length > 10, "the sources were found");
    for (const { file, text } of files) {
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""); // comments may talk about anything
      assert.doesNotMatch(code, /\b(HTTPS?|ALL|NO)_PROXY\b/i, `${file} mentions a proxy variable`);
      assert.doesNotMatch(
        code,
        /\bprocess\s*\.\s*env\b|\bDeno\s*\.\s*env\b|\bBun\s*\.\s*env\b|import\.meta\.env/,
        `${file} reads the environment directly`,
      );
      for (const m of code.matchAll(/\benv\(\s*["'`]([^"'`]+)["'`]\s*\)/g)) {
        assert.ok(
          ENV_READ.has(m[1]),
          `${file} reads the environment variable ${m[1]}: review it and add it here`,
        );
      }
      // Nothing turns params into environment or code.
      assert.doesNotMatch(code, /\beval\s*\(|new\s+Function\s*\(/, `${file} evaluates code`);
      assert.doesNotMatch(
        code,
        /\benv\s*\[[^\]]+\]\s*=|Object\.assign\(\s*[\w.]*env\b/,
        `${file} writes the environment`,
      );
    }
    // The one place that reads the environment is the transport's env(name).
    const readers = files.filter(({ text }) => /\.env\[/.test(text)).map(({ file }) => file);
    assert.deepEqual(readers, [path.join("src", "transport", "node.ts")]);
  });

  it("a request with `Proxy: http://evil` is a request header and nothing else", async () => {
    const envBefore = { ...process.env };
    const seen: Array<
      { proxy: string | null; param: string | undefined; env: string | undefined }
    > = [];
    await using s = await start((request, info) => {
      seen.push({
        proxy: request.headers.get("proxy"),
        param: info.params.HTTP_PROXY,
        env: process.env.HTTP_PROXY,
      });
      return new Response("ok");
    });
    const hostile = {
      HTTP_PROXY: "http://evil.test:8080",
      HTTPS_PROXY: "http://evil.test:8443", // not a header a web server produces, but a param all the same
      PATH: "/evil/bin",
      NODE_OPTIONS: "--require /evil.js",
      LD_PRELOAD: "/evil.so",
      FCGI_WEB_SERVER_ADDRS: "203.0.113.9",
    };
    for (let i = 0; i < 3; i++) {
      const r = await fetchRaw(s.target, { params: GET("/", hostile) });
      r.conn.close();
      assert.equal(r.cgi.status, 200);
    }
    assert.equal(seen.length, 3);
    for (const x of seen) {
      assert.equal(
        x.proxy,
        "http://evil.test:8080",
        "the handler sees the client's Proxy header as a header",
      );
      assert.equal(x.param, "http://evil.test:8080", "and the raw param in info.params");
      assert.equal(x.env, envBefore.HTTP_PROXY, "process.env.HTTP_PROXY untouched while handling");
    }
    assert.deepEqual({ ...process.env }, envBefore, "the environment is unchanged");
    assert.equal(process.env.HTTP_PROXY, envBefore.HTTP_PROXY);
  });
});
