// Runs the webfcgi command on the current runtime, for the CLI tests.
import { spawn } from "node:child_process";
import process from "node:process";
import { runtimeCommand } from "./runtime.ts";

// The CLI runs under a shell that reports its real pid and exit status:
// Deno's child_process reports a child it signalled as killed even when the
// child handled the signal and exited 0.
const WRAPPER = '"$@" & pid=$!; echo "pid=$pid" >&2; wait $pid; echo "exit=$?" >&2';

/** Starts `webfcgi <args>`; `exited` resolves with its exit code. */
export function runCli(args: string[]) {
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
  return { child, exited, stderr: () => stderr, pid, signal };
}

/** Polls `check` (errors count as "not yet") until it holds, for at most `ms`. */
export async function poll(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
