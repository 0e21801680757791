import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeBeginRequestBody,
  decodeEndRequestBody,
  decodeUnknownTypeBody,
  encodeBeginRequestBody,
  encodeEndRequestBody,
  encodeUnknownTypeBody,
} from "../../src/protocol/bodies.ts";
import { FCGI_KEEP_CONN, ProtocolStatus, RecordType, Role } from "../../src/protocol/constants.ts";
import { encodeRecord } from "../../src/protocol/record.ts";
import { throwsProtocolError } from "./_helpers.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

/** Asserts `decode` rejects bodies of every length but 8, naming `context`. */
function rejectsWrongLengths(decode: (content: Uint8Array) => unknown, context: string): void {
  for (const length of [0, 1, 7, 9, 16]) {
    const error = throwsProtocolError(() => decode(new Uint8Array(length)), `length ${length}`);
    assert.equal(error.where.context, context);
    assert.match(error.message, new RegExp(`${length} bytes, must have 8`));
  }
}

describe("BEGIN_REQUEST body", () => {
  it("encodes role (BE16), flags, 5 reserved zero bytes", () => {
    assert.deepEqual(
      encodeBeginRequestBody(Role.RESPONDER, FCGI_KEEP_CONN),
      bytes(0, 1, 1, 0, 0, 0, 0, 0),
    );
    assert.deepEqual(encodeBeginRequestBody(Role.AUTHORIZER), bytes(0, 2, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(encodeBeginRequestBody(Role.FILTER, 0), bytes(0, 3, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(encodeBeginRequestBody(0x0102, 0xff), bytes(1, 2, 0xff, 0, 0, 0, 0, 0));
  });

  it("decodes role and flags, ignoring the reserved bytes", () => {
    assert.deepEqual(decodeBeginRequestBody(bytes(0, 1, 1, 0, 0, 0, 0, 0)), { role: 1, flags: 1 });
    assert.deepEqual(decodeBeginRequestBody(bytes(0, 3, 0, 9, 9, 9, 9, 9)), { role: 3, flags: 0 });
    // an unknown role is reported as is (the caller answers UNKNOWN_ROLE)
    assert.deepEqual(decodeBeginRequestBody(bytes(1, 2, 0xfe, 0, 0, 0, 0, 0)), {
      role: 0x0102,
      flags: 0xfe,
    });
  });

  it("a whole BEGIN_REQUEST record as web servers send it", () => {
    assert.deepEqual(
      encodeRecord(
        RecordType.BEGIN_REQUEST,
        1,
        encodeBeginRequestBody(Role.RESPONDER, FCGI_KEEP_CONN),
      ),
      bytes(1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0),
    );
  });

  it("decodes a body that is a view into a larger buffer", () => {
    const record = bytes(1, 1, 0, 1, 0, 8, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0);
    assert.deepEqual(decodeBeginRequestBody(record.subarray(8)), { role: 2, flags: 1 });
  });

  it("rejects a body that is not 8 bytes with FastCGIProtocolError", () => {
    rejectsWrongLengths(decodeBeginRequestBody, "BEGIN_REQUEST");
  });
});

describe("END_REQUEST body", () => {
  it("encodes appStatus (BE32), protocolStatus, 3 reserved zero bytes", () => {
    assert.deepEqual(
      encodeEndRequestBody(0, ProtocolStatus.REQUEST_COMPLETE),
      bytes(0, 0, 0, 0, 0, 0, 0, 0),
    );
    assert.deepEqual(
      encodeEndRequestBody(0x01020304, ProtocolStatus.CANT_MPX_CONN),
      bytes(1, 2, 3, 4, 1, 0, 0, 0),
    );
    assert.deepEqual(
      encodeEndRequestBody(256, ProtocolStatus.UNKNOWN_ROLE),
      bytes(0, 0, 1, 0, 3, 0, 0, 0),
    );
    assert.deepEqual(
      encodeEndRequestBody(0xffffffff, ProtocolStatus.OVERLOADED),
      bytes(0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0),
    );
    assert.deepEqual(encodeEndRequestBody(0x80000000, 0), bytes(0x80, 0, 0, 0, 0, 0, 0, 0));
  });

  it("decodes appStatus as an unsigned 32-bit number, up to 0xffffffff", () => {
    assert.deepEqual(decodeEndRequestBody(bytes(1, 2, 3, 4, 1, 0, 0, 0)), {
      appStatus: 0x01020304,
      protocolStatus: 1,
    });
    assert.deepEqual(decodeEndRequestBody(bytes(0xff, 0xff, 0xff, 0xff, 2, 9, 9, 9)), {
      appStatus: 4294967295,
      protocolStatus: 2,
    });
    assert.deepEqual(decodeEndRequestBody(bytes(0x80, 0, 0, 0, 3, 0, 0, 0)), {
      appStatus: 2147483648,
      protocolStatus: 3,
    });
  });

  it("round-trips", () => {
    for (
      const appStatus of [0, 1, 255, 256, 65535, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]
    ) {
      for (const protocolStatus of [0, 1, 2, 3]) {
        assert.deepEqual(
          decodeEndRequestBody(encodeEndRequestBody(appStatus, protocolStatus)),
          { appStatus, protocolStatus },
        );
      }
    }
  });

  it("a whole END_REQUEST record", () => {
    assert.deepEqual(
      encodeRecord(
        RecordType.END_REQUEST,
        0x0102,
        encodeEndRequestBody(0, ProtocolStatus.REQUEST_COMPLETE),
      ),
      bytes(1, 3, 1, 2, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    );
  });

  it("rejects a body that is not 8 bytes with FastCGIProtocolError", () => {
    rejectsWrongLengths(decodeEndRequestBody, "END_REQUEST");
  });
});

describe("UNKNOWN_TYPE body", () => {
  it("encodes the type and 7 reserved zero bytes", () => {
    assert.deepEqual(encodeUnknownTypeBody(42), bytes(42, 0, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(encodeUnknownTypeBody(0xff), bytes(0xff, 0, 0, 0, 0, 0, 0, 0));
  });

  it("decodes the type", () => {
    assert.equal(decodeUnknownTypeBody(bytes(42, 0, 0, 0, 0, 0, 0, 0)), 42);
    assert.equal(decodeUnknownTypeBody(bytes(12, 1, 2, 3, 4, 5, 6, 7)), 12);
  });

  it("a whole UNKNOWN_TYPE management record", () => {
    assert.deepEqual(
      encodeRecord(RecordType.UNKNOWN_TYPE, 0, encodeUnknownTypeBody(0x40)),
      bytes(1, 11, 0, 0, 0, 8, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0),
    );
  });

  it("rejects a body that is not 8 bytes with FastCGIProtocolError", () => {
    rejectsWrongLengths(decodeUnknownTypeBody, "UNKNOWN_TYPE");
  });
});
