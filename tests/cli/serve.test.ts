import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import process from "node:process";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { runtimeCommand, scriptPath } from "../support/runtime.ts";
import { tempDir } from "../support/server.ts";

async function waitFor(check: () => Promise<boolean>, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out");
}

// The CLI runs under a shell that reports its real pid and exit status:
// Deno's child_process reports a child it signalled as killed even when the
// child handled the signal and exited 0.
const WRAPPER = '"$@" & pid=$!; echo "pid=$pid" >&2; wait $pid; echo "exit=$?" >&2';

function runCli(args: string[]) {
  const { command, args: full } = runtimeCommand("cli.ts", args);
  const child = spawn("sh", ["-c", WRAPPER, "sh", command, ...full], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", () => {
      const match = /exit=(\d+)/.exec(stderr);
      resolve(match === null ? null : Number(match[1]));
    })
  );
  const pid = () => Number(/pid=(\d+)/.exec(stderr)?.[1]);
  const signal = (name: "SIGTERM" | "SIGKILL") => {
    try {
      process.kill(pid(), name);
    } catch {
      // already gone
    }
  };
  return { child, exited, stderr: () => stderr, signal };
}

describe("webfcgi serve", () => {
  for (const fixture of ["app_fetch.ts", "app_function.ts"]) {
    it(`serves ${fixture} on a Unix socket and stops on SIGTERM with exit code 0`, async () => {
      const socket = path.join(tempDir(), "cli.sock");
      const app = scriptPath(`tests/fixtures/cli/${fixture}`);
      const run = runCli(["serve", app, "--listen", `unix:${socket}`]);
      try {
        let text = "";
        await waitFor(async () => {
          const r = await fetchRaw({ path: socket }, { params: GET("/here") });
          r.conn.close();
          text = r.cgi.text;
          return true;
        });
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
      await waitFor(() => {
        url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(run.stderr())?.[1] ?? "";
        return Promise.resolve(url !== "");
      });
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
