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
  multiplex: boolean;
}

/** Defaults, documented on {@linkcode FastCGIServeOptions}. */
export const DEFAULTS = {
  maxConnections: 1000,
  maxRequests: 1000,
  maxParamsBytes: 262144,
  paramsTimeout: 30000,
  idleTimeout: 120000,
} as const;

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

/** Validates the options into a config. */
export function resolveConfig(
  options: FastCGIServeOptions,
  handler: FastCGIHandler,
): ServerConfig {
  if (typeof handler !== "function") throw new TypeError("a handler function is required");
  return {
    handler,
    onError: options.onError,
    maxConnections: limit("maxConnections", options.maxConnections, DEFAULTS.maxConnections),
    maxRequests: limit("maxRequests", options.maxRequests, DEFAULTS.maxRequests),
    maxParamsBytes: limit("maxParamsBytes", options.maxParamsBytes, DEFAULTS.maxParamsBytes),
    paramsTimeout: limit("paramsTimeout", options.paramsTimeout, DEFAULTS.paramsTimeout),
    idleTimeout: limit("idleTimeout", options.idleTimeout, DEFAULTS.idleTimeout),
    multiplex: options.multiplex ?? true,
  };
}
