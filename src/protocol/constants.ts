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

/** The only protocol version: the first byte of every record. */
export const FCGI_VERSION_1 = 1;

/** Bytes in a record header. */
export const FCGI_HEADER_LEN = 8;

/** Largest content of one record (a 16-bit length). */
export const FCGI_MAX_CONTENT_LENGTH = 65535;

/**
 * Largest content we write in one record: a multiple of 8, so that content
 * plus padding stays within 65535 (PHP rejects records where it does not).
 */
export const FCGI_MAX_WRITE_CONTENT = 65528;

/** The file descriptor of a listening socket handed to a spawned app. */
export const FCGI_LISTENSOCK_FILENO = 0;

/** The request id of management records. */
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

/** The largest record type this version defines. */
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

/** The BEGIN_REQUEST flag that leaves the connection open after the request. */
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

/** Management variable: how many connections the app accepts at once. */
export const FCGI_MAX_CONNS = "FCGI_MAX_CONNS";
/** Management variable: how many requests the app handles at once. */
export const FCGI_MAX_REQS = "FCGI_MAX_REQS";
/** Management variable: "1" if the app multiplexes connections, else "0". */
export const FCGI_MPXS_CONNS = "FCGI_MPXS_CONNS";
