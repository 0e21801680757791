// The `webfcgi` bin of the installed npm package, as a user runs it, under
// each runtime (run by scripts/npm_smoke.mjs in its temporary project):
//
//   node   npx --no webfcgi ...             (npm's bin link; `--no`: never download)
//   bun    bun x --bun webfcgi ...          (--bun: Bun itself, not the #!/usr/bin/env node line)
//   deno   deno run -A npm:@webfcgi/webfcgi ...   (the package's bin, from node_modules)
//
// For each: `webfcgi --help` exits 0 with the usage; `webfcgi serve
// hello.mjs --listen unix:...` (examples/hello.ts, transpiled) answers
// `webfcgi request unix:... http://localhost/ -i`; SIGTERM stops the server
// with exit code 0. No network: the package is installed from its tarball.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as net from "node:net";
import { join } from "node:path";
import process from "node:process";

const STEP_MS = 30_000;

/** The command line that runs the package's bin under `runtime`. */
export function binCommand(root, runtime) {
  const bin = (name) => join(root, "node_modules", ".bin", name);
  if (runtime === "node") return { command: "npx", args: ["--no", "webfcgi"] };
  if (runtime === "bun") return { command: bin("bun"), args: ["x", "--bun", "webfcgi"] };
  return { command: bin("deno"), args: ["run", "-A", "npm:@webfcgi/webfcgi"] };
}

/** examples/hello.ts as plain JavaScript (Node 20 cannot load .ts), with this repo's TypeScript. */
export function writeHelloApp(root, project) {
  const ts = createRequire(join(root, "package.json"))("typescript");
  const source = readFileSync(join(root, "examples", "hello.ts"), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  writeFileSync(join(project, "hello.mjs"), outputText);
  return "hello.mjs";
}

function canConnect(path) {
  return new Promise((resolve) => {
    const socket = net.connect({ path });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** The processes at the ends of `pid`'s process tree (`pid` itself if it has no children). */
function leaves(pid) {
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)
      .filter(Boolean).map(Number);
  } catch {
    // gone, or no /proc: signal pid itself
  }
  return children.length === 0 ? [pid] : children.flatMap(leaves);
}

function runSync(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: STEP_MS });
  return {
    status: result.status,
    error: result.error,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
  };
}

/** The executables of `pids` (from /proc), or null where /proc cannot tell. */
function executables(pids) {
  try {
    return pids.map((pid) => realpathSync(readlinkSync(`/proc/${pid}/exe`)));
  } catch {
    return null;
  }
}

/**
 * Runs the steps with `command args` as the `webfcgi` command, in
 * `project`, serving `app`; `label` names the socket and the user agent.
 * With `runtimeExe`, the serving process must be that executable (npx runs
 * the bin through its `#!/usr/bin/env node` line: this checks which Node it
 * found). Resolves with { problem, output }.
 */
export async function cliSmoke({ command, args, project, app, socketDir, label, runtimeExe }) {
  const log = [];
  const fail = (problem) => ({ problem, output: log.join("\n") });

  const help = runSync(command, [...args, "--help"], project);
  log.push(`$ webfcgi --help -> exit ${help.status}`);
  if (help.status !== 0 || !/^Usage:$/m.test(help.stdout)) {
    log.push(help.stdout, help.stderr, help.error?.message ?? "");
    return fail("webfcgi --help");
  }

  const socket = join(socketDir, `${label}.sock`);
  // Its own process group, so that a SIGKILL at the end takes npx's children too.
  const server = spawn(command, [...args, "serve", app, "--listen", `unix:${socket}`], {
    cwd: project,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let serverOutput = "";
  server.stdout.on("data", (d) => (serverOutput += d));
  server.stderr.on("data", (d) => (serverOutput += d));
  const exited = new Promise((resolve) =>
    server.on("close", (code, signal) => resolve(code ?? signal))
  );
  // SIGTERM goes to the runtime that runs the CLI (npx runs it in a child
  // of a shell; npx itself dies of a SIGTERM instead of waiting for it).
  const stop = () => {
    for (const pid of leaves(server.pid)) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  };
  try {
    const deadline = Date.now() + STEP_MS;
    while (!(existsSync(socket) && await canConnect(socket))) {
      if (server.exitCode !== null || Date.now() > deadline) {
        log.push(`$ webfcgi serve ${app}: not listening`, serverOutput);
        return fail("webfcgi serve");
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    log.push(`$ webfcgi serve ${app} --listen unix:${label}.sock -> listening`);
    if (runtimeExe) {
      const want = realpathSync(runtimeExe);
      const seen = executables(leaves(server.pid));
      if (seen === null) {
        log.push(`  (cannot read /proc/<pid>/exe: which Node serves is not checked)`);
      } else if (seen.length !== 1 || seen[0] !== want) {
        log.push(`  serving process: ${seen.join(", ")}; expected ${want}`);
        return fail("webfcgi serve runs on another Node than the one under test");
      } else log.push(`  served by ${want}`);
    }

    const request = runSync(command, [
      ...args,
      "request",
      `unix:${socket}`,
      "http://localhost/",
      "-H",
      `User-Agent: ${label} smoke`,
      "-i",
    ], project);
    log.push(
      `$ webfcgi request ... -i -> exit ${request.status}: ${JSON.stringify(request.stdout)}`,
    );
    if (
      request.status !== 0 ||
      !request.stdout.startsWith("200 OK\r\n") ||
      !request.stdout.endsWith(`\r\n\r\nHello from webfcgi, ${label} smoke!\n`)
    ) {
      log.push(request.stderr);
      return fail("webfcgi request");
    }
  } finally {
    stop();
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, 10_000);
  const code = await exited;
  clearTimeout(timer);
  log.push(`$ kill -TERM webfcgi serve -> exit ${code}`);
  if (code !== 0) {
    log.push(serverOutput);
    return fail("webfcgi serve did not exit 0 on SIGTERM");
  }
  return { problem: null, output: log.join("\n") };
}
