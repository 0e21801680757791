import type { ConnectOptions } from "../transport/types.ts";
import type { FastCGIAddress } from "./types.ts";

const DEFAULT_HOSTNAME = "127.0.0.1";
const HOST_PORT = /^(?:\[([^\]]*)\]|([^:\[\]]*)):(\d{1,5})$/;

function checkPort(port: number, address: unknown): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`invalid FastCGI address ${JSON.stringify(address)}: bad port`);
  }
  return port;
}

/**
 * Resolves any accepted address form to what the transport connects to.
 *
 * @throws {TypeError} when the address has none of the accepted forms.
 */
export function parseAddress(address: FastCGIAddress): ConnectOptions {
  if (typeof address === "string") {
    if (address.startsWith("unix:")) {
      const path = address.slice(5);
      if (path === "") throw new TypeError(`invalid FastCGI address "${address}": empty path`);
      return { path };
    }
    if (address.startsWith("/") || address.startsWith(".")) return { path: address };
    const match = HOST_PORT.exec(address);
    if (match !== null) {
      const hostname = match[1] ?? match[2];
      return {
        hostname: hostname === "" ? DEFAULT_HOSTNAME : hostname,
        port: checkPort(Number(match[3]), address),
      };
    }
    if (address !== "" && !address.includes(":")) return { path: address };
    throw new TypeError(
      `invalid FastCGI address "${address}": use a socket path, unix:/path, host:port or [v6]:port`,
    );
  }
  if (typeof address === "object" && address !== null) {
    if ("path" in address && typeof address.path === "string" && address.path !== "") {
      return { path: address.path };
    }
    if ("port" in address && typeof address.port === "number") {
      const hostname = (address as { hostname?: string }).hostname;
      return {
        hostname: hostname ? hostname.replace(/^\[(.*)\]$/, "$1") : DEFAULT_HOSTNAME,
        port: checkPort(address.port, address),
      };
    }
  }
  throw new TypeError(`invalid FastCGI address ${JSON.stringify(address)}`);
}

/** The address as the CLI writes it: `unix:/path`, `host:port` or `[v6]:port`. */
export function describeAddress(target: ConnectOptions): string {
  if ("path" in target) return `unix:${target.path}`;
  const host = target.hostname.includes(":") ? `[${target.hostname}]` : target.hostname;
  return `${host}:${target.port}`;
}
