// Bun's node:test ignores the `timeout` option of before/after hooks and
// gives them its 5 s default; starting and stopping servers can take
// longer. raiseBunDefaultTimeout() raises Bun's default for the test file
// being loaded (call it from each suite function, at registration time).
import { runtimeName } from "./runtime.ts";

let setDefaultTimeout: ((ms: number) => void) | undefined;
if (runtimeName() === "bun") {
  const specifier = "bun:test";
  setDefaultTimeout = ((await import(specifier)) as { setDefaultTimeout?: (ms: number) => void })
    .setDefaultTimeout;
}

export function raiseBunDefaultTimeout(ms = 120000): void {
  setDefaultTimeout?.(ms);
}
