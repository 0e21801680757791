import { FastCGIProtocolError } from "./errors.ts";

/**
 * The body of a BEGIN_REQUEST record.
 *
 * @example
 * ```ts
 * import { decodeBeginRequestBody } from "@webfcgi/webfcgi";
 * console.log(decodeBeginRequestBody(new Uint8Array([0, 1, 1, 0, 0, 0, 0, 0]))); // { role: 1, flags: 1 }
 * ```
 */
export interface BeginRequestBody {
  /** Role, see {@linkcode Role}. */
  role: number;
  /** Flags; bit 0 is FCGI_KEEP_CONN. */
  flags: number;
}

/**
 * The body of an END_REQUEST record.
 *
 * @example
 * ```ts
 * import type { EndRequestBody } from "@webfcgi/webfcgi";
 * const end: EndRequestBody = { appStatus: 0, protocolStatus: 0 };
 * ```
 */
export interface EndRequestBody {
  /** The application's exit status, 32 bits. */
  appStatus: number;
  /** See {@linkcode ProtocolStatus}. */
  protocolStatus: number;
}

function expectLength(content: Uint8Array, length: number, context: string): void {
  if (content.length !== length) {
    throw new FastCGIProtocolError(
      `${context} body has ${content.length} bytes, must have ${length}`,
      { context, offset: content.length },
    );
  }
}

/**
 * Encodes a BEGIN_REQUEST body.
 *
 * @example
 * ```ts
 * import { encodeBeginRequestBody, FCGI_KEEP_CONN, Role } from "@webfcgi/webfcgi";
 * console.log(encodeBeginRequestBody(Role.RESPONDER, FCGI_KEEP_CONN)); // Uint8Array(8) [0, 1, 1, 0, 0, 0, 0, 0]
 * ```
 */
export function encodeBeginRequestBody(role: number, flags = 0): Uint8Array {
  return new Uint8Array([role >>> 8, role & 0xff, flags, 0, 0, 0, 0, 0]);
}

/**
 * Decodes a BEGIN_REQUEST body.
 *
 * @throws {FastCGIProtocolError} if not exactly 8 bytes.
 * @example
 * ```ts
 * import { decodeBeginRequestBody } from "@webfcgi/webfcgi";
 * console.log(decodeBeginRequestBody(new Uint8Array([0, 2, 0, 0, 0, 0, 0, 0])).role); // 2
 * ```
 */
export function decodeBeginRequestBody(content: Uint8Array): BeginRequestBody {
  expectLength(content, 8, "BEGIN_REQUEST");
  return { role: (content[0] << 8) | content[1], flags: content[2] };
}

/**
 * Encodes an END_REQUEST body.
 *
 * @example
 * ```ts
 * import { encodeEndRequestBody } from "@webfcgi/webfcgi";
 * console.log(encodeEndRequestBody(0, 2)); // Uint8Array(8) [0, 0, 0, 0, 2, 0, 0, 0]
 * ```
 */
export function encodeEndRequestBody(appStatus: number, protocolStatus: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setUint32(0, appStatus >>> 0);
  bytes[4] = protocolStatus;
  return bytes;
}

/**
 * Decodes an END_REQUEST body.
 *
 * @throws {FastCGIProtocolError} if not exactly 8 bytes.
 * @example
 * ```ts
 * import { decodeEndRequestBody } from "@webfcgi/webfcgi";
 * console.log(decodeEndRequestBody(new Uint8Array([0, 0, 1, 0, 3, 0, 0, 0]))); // { appStatus: 256, protocolStatus: 3 }
 * ```
 */
export function decodeEndRequestBody(content: Uint8Array): EndRequestBody {
  expectLength(content, 8, "END_REQUEST");
  const appStatus = ((content[0] << 24) >>> 0) + (content[1] << 16) + (content[2] << 8) +
    content[3];
  return { appStatus, protocolStatus: content[4] };
}

/**
 * Encodes an UNKNOWN_TYPE body naming the type that was not understood.
 *
 * @example
 * ```ts
 * import { encodeUnknownTypeBody } from "@webfcgi/webfcgi";
 * console.log(encodeUnknownTypeBody(42)); // Uint8Array(8) [42, 0, 0, 0, 0, 0, 0, 0]
 * ```
 */
export function encodeUnknownTypeBody(type: number): Uint8Array {
  return new Uint8Array([type, 0, 0, 0, 0, 0, 0, 0]);
}

/**
 * Decodes an UNKNOWN_TYPE body to the type it names.
 *
 * @throws {FastCGIProtocolError} if not exactly 8 bytes.
 * @example
 * ```ts
 * import { decodeUnknownTypeBody } from "@webfcgi/webfcgi";
 * console.log(decodeUnknownTypeBody(new Uint8Array([42, 0, 0, 0, 0, 0, 0, 0]))); // 42
 * ```
 */
export function decodeUnknownTypeBody(content: Uint8Array): number {
  expectLength(content, 8, "UNKNOWN_TYPE");
  return content[0];
}
