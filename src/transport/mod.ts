// Runtime detection happens once, here. Bun's own sockets measured faster
// than its node:net for the responder; Deno's did not, so Deno and Node
// share the node:net transport.
import { bunTransport } from "./bun.ts";
import { nodeTransport } from "./node.ts";
import type { Transport } from "./types.ts";

/** The transport for the running runtime. */
export const transport: Transport = typeof (globalThis as { Bun?: unknown }).Bun === "object"
  ? bunTransport
  : nodeTransport;
