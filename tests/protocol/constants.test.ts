import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  FCGI_HEADER_LEN,
  FCGI_KEEP_CONN,
  FCGI_LISTENSOCK_FILENO,
  FCGI_MAX_CONNS,
  FCGI_MAX_CONTENT_LENGTH,
  FCGI_MAX_REQS,
  FCGI_MAX_WRITE_CONTENT,
  FCGI_MAXTYPE,
  FCGI_MPXS_CONNS,
  FCGI_NULL_REQUEST_ID,
  FCGI_VERSION_1,
  ProtocolStatus,
  RecordType,
  Role,
} from "../../src/protocol/constants.ts";

describe("protocol constants (FastCGI 1.0 spec values)", () => {
  it("record types are 1 to 11, and nothing else", () => {
    assert.deepEqual({ ...RecordType }, {
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
    });
    assert.equal(FCGI_MAXTYPE, 11);
  });

  it("roles are 1 to 3", () => {
    assert.deepEqual({ ...Role }, { RESPONDER: 1, AUTHORIZER: 2, FILTER: 3 });
  });

  it("FCGI_KEEP_CONN is flag bit 1", () => {
    assert.equal(FCGI_KEEP_CONN, 1);
  });

  it("protocol statuses are 0 to 3", () => {
    assert.deepEqual({ ...ProtocolStatus }, {
      REQUEST_COMPLETE: 0,
      CANT_MPX_CONN: 1,
      OVERLOADED: 2,
      UNKNOWN_ROLE: 3,
    });
  });

  it("management variable names are spelled as in the spec", () => {
    assert.equal(FCGI_MAX_CONNS, "FCGI_MAX_CONNS");
    assert.equal(FCGI_MAX_REQS, "FCGI_MAX_REQS");
    assert.equal(FCGI_MPXS_CONNS, "FCGI_MPXS_CONNS");
  });

  it("header length, version, null request id and listen socket fd", () => {
    assert.equal(FCGI_HEADER_LEN, 8);
    assert.equal(FCGI_VERSION_1, 1);
    assert.equal(FCGI_NULL_REQUEST_ID, 0);
    assert.equal(FCGI_LISTENSOCK_FILENO, 0);
  });

  it("content limits: 65535 readable, 65528 written (a multiple of 8)", () => {
    assert.equal(FCGI_MAX_CONTENT_LENGTH, 65535);
    assert.equal(FCGI_MAX_WRITE_CONTENT, 65528);
    assert.equal(FCGI_MAX_WRITE_CONTENT % 8, 0);
    // the largest multiple of 8 that fits in 16 bits
    assert.ok(FCGI_MAX_WRITE_CONTENT + 8 > FCGI_MAX_CONTENT_LENGTH);
  });
});
