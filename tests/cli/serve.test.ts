import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { runtimeCommand, scriptPath } from "../support/runtime.ts";
import { poll, runCli } from "../support/cli_run.ts";
import { tempDir } from "../support/server.ts";

describe("webfcgi serve", () => {
  for (const fixture of ["app_fetch.ts", "app_function.ts"]) {
    it(`serves ${fixture} on a Unix socket and stops on SIGTERM with exit code 0`, async () => {
      const socket = path.join(tempDir(), "cli.sock");
      const app = scriptPath(`tests/fixtures/cli/${fixture}`);
      const run = runCli(["serve", app, "--listen", `unix:${socket}`]);
      try {
        let text = "";
        await poll(
          async () => {
            const r = await fetchRaw({ path: socket }, { params: GET("/here") });
            r.conn.close();
            text = r.cgi.text;
            return true;
          },
          15000,
          "the app",
        );
        assert.equal(text, fixture === "app_fetch.ts" ? "cli app: /here" : "function app: GET");
        run.signal("SIGTERM");
        const code = await run.exited;
        assert.equal(code, 0, `exit ${code}: ${run.stderr()}`);
      } finally {
        run.signal("SIGKILL");
      }
    });
  }

  it("exits 2 with the usage on a bad command line", async () => {
    const run = runCli(["serve"]);
    assert.equal(await run.exited, 2);
    assert.match(run.stderr(), /serve takes one module/);
    assert.match(run.stderr(), /Usage:/);
  });
});

describe("webfcgi request", () => {
  it("sends one request with method, headers, body and params, and prints the response", async () => {
    const { serveFastCGI } = await import("../../mod.ts");
    const server = serveFastCGI(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req, info) =>
        new Response(
          `${req.method} ${new URL(req.url).pathname} ${req.headers.get("x-a")} ${await req
            .text()} ${info.params.SCRIPT_FILENAME}`,
          { status: 201, headers: { "set-cookie": "k=v" } },
        ),
    );
    try {
      const addr = await server.listening as { port: number };
      const { command, args } = runtimeCommand("cli.ts", [
        "request",
        `127.0.0.1:${addr.port}`,
        "http://example.test/p",
        "-X",
        "PUT",
        "-H",
        "X-A: 1",
        "-d",
        "hi",
        "--param",
        "SCRIPT_FILENAME=/srv/x.php",
        "-i",
      ]);
      const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      await new Promise((resolve) => child.on("close", resolve));
      assert.match(out, /^201 Created\r\n/);
      assert.match(out, /set-cookie: k=v\r\n/);
      assert.ok(out.endsWith("\r\n\r\nPUT /p 1 hi /srv/x.php"), out);
    } finally {
      await server.shutdown();
    }
  });

  it("exits 1 when the server cannot be reached", async () => {
    const run = runCli(["request", `unix:${path.join(tempDir(), "none.sock")}`, "http://x/"]);
    assert.equal(await run.exited, 1);
  });
});

describe("webfcgi dev", () => {
  it("serves the app over HTTP through FastCGI, and stops on SIGTERM", async () => {
    const app = scriptPath("tests/fixtures/cli/app_fetch.ts");
    const run = runCli(["dev", app, "--port", "0"]);
    try {
      let url = "";
      await poll(
        () => {
          url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(run.stderr())?.[1] ?? "";
          return Promise.resolve(url !== "");
        },
        15000,
        "the dev front's address",
      );
      const body = await new Promise<string>((resolve, reject) => {
        http.get(`${url}/through/dev`, (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(`${res.statusCode} ${text}`));
        }).on("error", reject);
      });
      assert.equal(body, "200 cli app: /through/dev");
      run.signal("SIGTERM");
      const code = await run.exited;
      assert.equal(code, 0, `exit ${code}: ${run.stderr()}`);
    } finally {
      run.signal("SIGKILL");
    }
  });
});

describe("webfcgi --help", () => {
  for (const command of ["serve", "request", "dev"]) {
    it(`${command} --help prints that command's usage and exits 0`, async () => {
      const { command: cmd, args } = runtimeCommand("cli.ts", [command, "--help"]);
      const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 0);
      assert.match(out, new RegExp(`^Usage:\\n  webfcgi ${command} `));
    });
  }
});
