// Runs scripts/bench/micro/main.ts on each runtime (Node from the bench's
// tsc build) and collects its JSON line.
import * as path from "node:path";
import process from "node:process";
import { runToEnd } from "./procs.mjs";

export async function runMicro(ctx, runtimes, budgetMs) {
  const source = path.join(ctx.root, "scripts/bench/micro/main.ts");
  const commands = {
    deno: [ctx.tools.deno, ["run", "-A", "--no-lock", "--quiet", source, String(budgetMs)]],
    bun: [ctx.tools.bun, [source, String(budgetMs)]],
    node: [ctx.tools.node, [
      path.join(ctx.buildDir, "scripts/bench/micro/main.js"),
      String(budgetMs),
    ]],
  };
  const micro = {};
  for (const rt of runtimes) {
    const [command, args] = commands[rt];
    process.stdout.write(`  micro on ${rt} ... `);
    const result = await runToEnd(command, args, { cwd: ctx.root, timeoutMs: 120000 });
    const line = result.stdout.trim().split("\n").pop() ?? "";
    try {
      micro[rt] = JSON.parse(line);
      console.log("done");
    } catch {
      micro[rt] = {
        results: [],
        error: `exit ${result.code ?? result.signal}: ${result.stderr.slice(-500)}`,
      };
      console.log(`failed: ${micro[rt].error}`);
    }
  }
  return micro;
}
