// Runtime detection happens once, here.
import { nodeTransport } from "./node.ts";
import type { Transport } from "./types.ts";

/** The transport for the running runtime. */
export const transport: Transport = nodeTransport;
