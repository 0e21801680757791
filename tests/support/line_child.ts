// A child process driven line by line: send a line, read the lines it prints.
import { spawn } from "node:child_process";
import process from "node:process";

/** A child process that answers one line per line it is sent. */
export function lineChild(argv: string[], env: Record<string, string> = {}) {
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk) => (out += chunk));
  child.stderr!.on("data", (chunk) => (err += chunk));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let taken = 0;
  return {
    /** The next line of output (within `ms`). */
    async line(ms = 20000): Promise<string> {
      const deadline = Date.now() + ms;
      for (;;) {
        const end = out.indexOf("\n", taken);
        if (end >= 0) {
          const line = out.slice(taken, end);
          taken = end + 1;
          return line;
        }
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`no line from ${argv.join(" ")} within ${ms} ms\n${out}\n${err}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    send(line: string): void {
      child.stdin!.write(`${line}\n`);
    },
    async stop(): Promise<void> {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
