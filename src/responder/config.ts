import type { FastCGIHandler, FastCGIServeOptions } from "./types.ts";

/** Resolved limits and callbacks shared by every connection of one server. */
export interface ServerConfig {
  handler: FastCGIHandler;
  onError: ((error: unknown) => Response | Promise<Response>) | undefined;
  maxConnections: number;
  maxRequests: number;
  maxParamsBytes: number;
  paramsTimeout: number;
  idleTimeout: number;
  maxUnreadBody: number;
  bodyStallTimeout: number;
  multiplex: boolean;
}

/** Defaults, documented on {@linkcode FastCGIServeOptions}. */
export const DEFAULTS = {
  maxConnections: 1000,
  maxRequests: 1000,
  maxParamsBytes: 262144,
  paramsTimeout: 30000,
  idleTimeout: 120000,
  maxUnreadBody: 1048576,
  bodyStallTimeout: 5000,
} as const;

/**
 * Descriptors left to the runtime and the app (stdio, the listener, files,
 * outgoing connections): 32 plus an eighth of the limit. Measured at start:
 * Bun 9, Node 22, Deno 26 descriptors, listener included.
 */
function fdMargin(fdLimit: number): number {
  return 32 + Math.floor(fdLimit / 8);
}

/**
 * The default maxConnections under a descriptor limit: 1000, or fewer when
 * the limit is lower, so that accept() never hits EMFILE (Deno's node:net
 * stops accepting for good after it; Bun spins a CPU). At least 1.
 *
 * @example
 * ```ts ignore
 * defaultMaxConnections(1024); // 864
 * defaultMaxConnections(undefined); // 1000
 * ```
 */
export function defaultMaxConnections(fdLimit: number | undefined): number {
  if (fdLimit === undefined || !(fdLimit > 0) || fdLimit === Infinity) {
    return DEFAULTS.maxConnections;
  }
  return Math.max(1, Math.min(DEFAULTS.maxConnections, fdLimit - fdMargin(fdLimit)));
}

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

/**
 * Validates the options into a config. `fdLimit` (read only when
 * maxConnections is not given) lowers the default maxConnections.
 */
export function resolveConfig(
  options: FastCGIServeOptions,
  handler: FastCGIHandler,
  fdLimit?: () => number | undefined,
): ServerConfig {
  if (typeof handler !== "function") throw new TypeError("a handler function is required");
  return {
    handler,
    onError: options.onError,
    maxConnections: options.maxConnections === undefined
      ? defaultMaxConnections(fdLimit?.())
      : limit("maxConnections", options.maxConnections, DEFAULTS.maxConnections),
    maxRequests: limit("maxRequests", options.maxRequests, DEFAULTS.maxRequests),
    maxParamsBytes: limit("maxParamsBytes", options.maxParamsBytes, DEFAULTS.maxParamsBytes),
    paramsTimeout: limit("paramsTimeout", options.paramsTimeout, DEFAULTS.paramsTimeout),
    idleTimeout: limit("idleTimeout", options.idleTimeout, DEFAULTS.idleTimeout),
    maxUnreadBody: limit("maxUnreadBody", options.maxUnreadBody, DEFAULTS.maxUnreadBody),
    bodyStallTimeout: limit(
      "bodyStallTimeout",
      options.bodyStallTimeout,
      DEFAULTS.bodyStallTimeout,
    ),
    multiplex: options.multiplex ?? true,
  };
}
