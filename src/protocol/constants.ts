/**
 * FastCGI 1.0 wire constants, named as in the specification.
 *
 * @example
 * ```ts
 * import { RecordType, Role } from "@webfcgi/webfcgi";
 * console.log(RecordType.BEGIN_REQUEST, Role.RESPONDER); // 1 1
 * ```
 * @module
 */

/**
 * The only protocol version: the first byte of every record.
 *
 * @example
 * ```ts
 * import { encodeRecord, FCGI_VERSION_1, RecordType } from "@webfcgi/webfcgi";
 * console.log(encodeRecord(RecordType.STDOUT, 1)[0] === FCGI_VERSION_1); // true
 * ```
 */
export const FCGI_VERSION_1 = 1;

/**
 * Bytes in a record header.
 *
 * @example
 * ```ts
 * import { encodeRecord, FCGI_HEADER_LEN, RecordType } from "@webfcgi/webfcgi";
 * // An empty record is its header alone.
 * console.log(encodeRecord(RecordType.STDIN, 1).length === FCGI_HEADER_LEN); // true
 * ```
 */
export const FCGI_HEADER_LEN = 8;

/**
 * Largest content of one record (a 16-bit length).
 *
 * @example
 * ```ts
 * import { FCGI_MAX_CONTENT_LENGTH } from "@webfcgi/webfcgi";
 * console.log(FCGI_MAX_CONTENT_LENGTH); // 65535
 * ```
 */
export const FCGI_MAX_CONTENT_LENGTH = 65535;

/**
 * Largest content we write in one record: a multiple of 8, so that content
 * plus padding stays within 65535 (PHP rejects records where it does not).
 *
 * @example
 * ```ts
 * import { encodeStream, FCGI_MAX_WRITE_CONTENT, RecordType } from "@webfcgi/webfcgi";
 * // 100000 bytes of STDOUT leave in two records of at most FCGI_MAX_WRITE_CONTENT bytes.
 * const bytes = encodeStream(RecordType.STDOUT, 1, new Uint8Array(100_000));
 * console.log(FCGI_MAX_WRITE_CONTENT, bytes.length); // 65528 100016
 * ```
 */
export const FCGI_MAX_WRITE_CONTENT = 65528;

/**
 * The file descriptor of a listening socket handed to a spawned app.
 *
 * @example
 * ```ts
 * import { FCGI_LISTENSOCK_FILENO, serveFastCGI } from "@webfcgi/webfcgi";
 * // What serveFastCGI() does by default when fd 0 is a socket (spawn-fcgi, mod_fcgid, lighttpd):
 * export function serveSpawned() {
 *   return serveFastCGI({ fd: FCGI_LISTENSOCK_FILENO }, () => new Response("spawned"));
 * }
 * ```
 */
export const FCGI_LISTENSOCK_FILENO = 0;

/**
 * The request id of management records.
 *
 * @example
 * ```ts
 * import { encodePairs, encodeRecord, FCGI_MAX_REQS, FCGI_NULL_REQUEST_ID, RecordType } from "@webfcgi/webfcgi";
 * // FCGI_GET_VALUES asks an app for its limits, outside any request.
 * const query = encodeRecord(RecordType.GET_VALUES, FCGI_NULL_REQUEST_ID, encodePairs([[FCGI_MAX_REQS, ""]]));
 * console.log(query.length); // 24
 * ```
 */
export const FCGI_NULL_REQUEST_ID = 0;

/**
 * Record types (spec §8).
 *
 * @example
 * ```ts
 * import { RecordType } from "@webfcgi/webfcgi";
 * console.log(RecordType.STDOUT); // 6
 * ```
 */
export const RecordType = {
  BEGIN_REQUEST: 1,
  ABORT_REQUEST: 2,
  END_REQUEST: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11,
} as const;

/** A record type number from {@linkcode RecordType}. */
export type RecordType = typeof RecordType[keyof typeof RecordType];

/**
 * The largest record type this version defines.
 *
 * @example
 * ```ts
 * import { FCGI_MAXTYPE } from "@webfcgi/webfcgi";
 * // A type above it gets an FCGI_UNKNOWN_TYPE reply.
 * console.log(12 > FCGI_MAXTYPE); // true
 * ```
 */
export const FCGI_MAXTYPE: 11 = RecordType.UNKNOWN_TYPE;

/**
 * Roles of a BEGIN_REQUEST body (spec §5.1).
 *
 * @example
 * ```ts
 * import { Role } from "@webfcgi/webfcgi";
 * console.log(Role.AUTHORIZER); // 2
 * ```
 */
export const Role = {
  RESPONDER: 1,
  AUTHORIZER: 2,
  FILTER: 3,
} as const;

/** A role number from {@linkcode Role}. */
export type Role = typeof Role[keyof typeof Role];

/**
 * The BEGIN_REQUEST flag that leaves the connection open after the request.
 *
 * @example
 * ```ts
 * import { encodeBeginRequestBody, FCGI_KEEP_CONN, Role } from "@webfcgi/webfcgi";
 * const body = encodeBeginRequestBody(Role.RESPONDER, FCGI_KEEP_CONN);
 * console.log(body[2]); // 1
 * ```
 */
export const FCGI_KEEP_CONN = 1;

/**
 * Protocol statuses of an END_REQUEST body (spec §5.5).
 *
 * @example
 * ```ts
 * import { ProtocolStatus } from "@webfcgi/webfcgi";
 * console.log(ProtocolStatus.OVERLOADED); // 2
 * ```
 */
export const ProtocolStatus = {
  REQUEST_COMPLETE: 0,
  CANT_MPX_CONN: 1,
  OVERLOADED: 2,
  UNKNOWN_ROLE: 3,
} as const;

/** A protocol status number from {@linkcode ProtocolStatus}. */
export type ProtocolStatus = typeof ProtocolStatus[keyof typeof ProtocolStatus];

/**
 * Management variable: how many connections the app accepts at once.
 *
 * @example
 * ```ts
 * import { decodePairs, encodePairs, FCGI_MAX_CONNS } from "@webfcgi/webfcgi";
 * console.log(decodePairs(encodePairs([[FCGI_MAX_CONNS, "1000"]]))); // [ [ "FCGI_MAX_CONNS", "1000" ] ]
 * ```
 */
export const FCGI_MAX_CONNS = "FCGI_MAX_CONNS";
/**
 * Management variable: how many requests the app handles at once.
 *
 * @example
 * ```ts
 * import { encodePairs, FCGI_MAX_REQS } from "@webfcgi/webfcgi";
 * // The body of an FCGI_GET_VALUES query: names with empty values.
 * console.log(encodePairs([[FCGI_MAX_REQS, ""]]).length); // 15
 * ```
 */
export const FCGI_MAX_REQS = "FCGI_MAX_REQS";
/**
 * Management variable: "1" if the app multiplexes connections, else "0".
 *
 * @example
 * ```ts
 * import { FCGI_MPXS_CONNS } from "@webfcgi/webfcgi";
 * const values = new Map([[FCGI_MPXS_CONNS, "1"]]);
 * console.log(values.get("FCGI_MPXS_CONNS") === "1"); // true: requests may share a connection
 * ```
 */
export const FCGI_MPXS_CONNS = "FCGI_MPXS_CONNS";
