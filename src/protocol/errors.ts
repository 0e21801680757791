/**
 * Where in the input a protocol error was found.
 *
 * @example
 * ```ts
 * import type { ProtocolErrorWhere } from "@webfcgi/webfcgi";
 * const where: ProtocolErrorWhere = { context: "record header", offset: 0 };
 * ```
 */
export interface ProtocolErrorWhere {
  /** The structure being decoded, e.g. "record header" or "name-value pair". */
  context: string;
  /** Byte offset within that structure or stream, when known. */
  offset?: number;
  /** Record type involved, when known. */
  recordType?: number;
  /** Request id involved, when known. */
  requestId?: number;
}

/**
 * Malformed FastCGI input: carries what went wrong and where.
 *
 * The connection that sent it is closed; nothing else is affected.
 *
 * @example
 * ```ts
 * import { decodePairs, FastCGIProtocolError } from "@webfcgi/webfcgi";
 * try {
 *   decodePairs(new Uint8Array([5, 1, 65]));
 * } catch (error) {
 *   if (error instanceof FastCGIProtocolError) console.log(error.where.context);
 * }
 * ```
 */
export class FastCGIProtocolError extends Error {
  /** Where the problem is. */
  readonly where: ProtocolErrorWhere;

  /**
   * Creates the error.
   *
   * @param what a short description
   * @param where its location
   */
  constructor(what: string, where: ProtocolErrorWhere) {
    const at = where.offset === undefined ? "" : ` at byte ${where.offset}`;
    super(`${what} (${where.context}${at})`);
    this.name = "FastCGIProtocolError";
    this.where = where;
  }
}
