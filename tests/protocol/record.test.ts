import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RecordType } from "../../src/protocol/constants.ts";
import {
  decodeHeader,
  encodeHeader,
  encodeRecord,
  encodeStream,
  paddingFor,
  writeHeader,
} from "../../src/protocol/record.ts";
import { concat, decodeChunks, pattern, throwsProtocolError } from "./_helpers.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

describe("record header", () => {
  it("encodeHeader writes version 1, type, BE16 id, BE16 length, padding, reserved 0", () => {
    assert.deepEqual(
      encodeHeader({ type: 5, requestId: 0xabcd, contentLength: 0x1234, paddingLength: 0x56 }),
      bytes(1, 5, 0xab, 0xcd, 0x12, 0x34, 0x56, 0),
    );
    assert.deepEqual(
      encodeHeader({ type: 11, requestId: 0, contentLength: 8, paddingLength: 0 }),
      bytes(1, 11, 0, 0, 0, 8, 0, 0),
    );
    assert.deepEqual(
      encodeHeader({ type: 0xff, requestId: 0xffff, contentLength: 0xffff, paddingLength: 0xff }),
      bytes(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0),
    );
  });

  it("encodeHeader honours an explicit version (to build bad input)", () => {
    assert.deepEqual(
      encodeHeader({ version: 2, type: 6, requestId: 1, contentLength: 0, paddingLength: 0 }),
      bytes(2, 6, 0, 1, 0, 0, 0, 0),
    );
  });

  it("writeHeader writes at an offset and leaves the rest alone", () => {
    const target = new Uint8Array(12).fill(0xee);
    writeHeader(target, 2, RecordType.STDERR, 0x0102, 0x0304, 5);
    assert.deepEqual(target, bytes(0xee, 0xee, 1, 7, 1, 2, 3, 4, 5, 0, 0xee, 0xee));
  });

  it("decodeHeader reads the fields, at offset 0 or later", () => {
    assert.deepEqual(decodeHeader(bytes(1, 5, 0xab, 0xcd, 0x12, 0x34, 0x56, 0)), {
      version: 1,
      type: 5,
      requestId: 0xabcd,
      contentLength: 0x1234,
      paddingLength: 0x56,
    });
    assert.deepEqual(decodeHeader(bytes(9, 9, 9, 1, 3, 0, 1, 0xff, 0xff, 0xff, 7), 3), {
      version: 1,
      type: 3,
      requestId: 1,
      contentLength: 0xffff,
      paddingLength: 0xff,
    });
  });

  it("decodeHeader ignores the reserved byte", () => {
    assert.equal(decodeHeader(bytes(1, 6, 0, 1, 0, 0, 0, 0x5a)).type, 6);
  });

  it("decodeHeader(encodeHeader(h)) is h", () => {
    const header = { version: 1, type: 8, requestId: 258, contentLength: 65535, paddingLength: 1 };
    assert.deepEqual(decodeHeader(encodeHeader(header)), header);
  });

  it("decodeHeader rejects a version other than 1 with FastCGIProtocolError", () => {
    for (const version of [0, 2, 0xff]) {
      const error = throwsProtocolError(() => decodeHeader(bytes(version, 6, 0, 1, 0, 0, 0, 0)));
      assert.equal(error.where.context, "record header");
      assert.match(error.message, new RegExp(`version ${version}`));
    }
    // bytes before the offset hold a valid version: the one at the offset counts
    const error = throwsProtocolError(() =>
      decodeHeader(bytes(1, 1, 1, 2, 6, 0, 1, 0, 0, 0, 0), 3)
    );
    assert.equal(error.where.context, "record header");
    assert.equal(error.where.offset, 3);
  });

  it("decodeHeader rejects fewer than 8 bytes with FastCGIProtocolError", () => {
    for (let length = 0; length < 8; length++) {
      const error = throwsProtocolError(() => decodeHeader(new Uint8Array(length).fill(1)));
      assert.equal(error.where.context, "record header");
    }
    // 8 bytes, but only 7 from the offset on
    const error = throwsProtocolError(() => decodeHeader(bytes(0, 1, 6, 0, 1, 0, 0, 0), 1));
    assert.equal(error.where.context, "record header");
    assert.equal(error.where.offset, 1);
  });

  it("encodeHeader rejects out-of-range fields with RangeError", () => {
    const good = { type: 6, requestId: 1, contentLength: 0, paddingLength: 0 };
    const bad: Array<Partial<typeof good> & { version?: number }> = [
      { type: 256 },
      { type: -1 },
      { type: 1.5 },
      { type: NaN },
      { requestId: 0x10000 },
      { requestId: -1 },
      { contentLength: 65536 },
      { contentLength: -1 },
      { contentLength: 0.5 },
      { paddingLength: 256 },
      { paddingLength: -1 },
      { version: 256 },
      { version: -1 },
    ];
    for (const change of bad) {
      assert.throws(() => encodeHeader({ ...good, ...change }), RangeError, JSON.stringify(change));
    }
  });
});

describe("encodeRecord", () => {
  it("paddingFor rounds up to a multiple of 8", () => {
    const expected = [0, 7, 6, 5, 4, 3, 2, 1, 0, 7];
    for (let length = 0; length < expected.length; length++) {
      assert.equal(paddingFor(length), expected[length], `length ${length}`);
    }
    assert.equal(paddingFor(65528), 0);
    assert.equal(paddingFor(65535), 1);
  });

  it("content 0: header only", () => {
    assert.deepEqual(encodeRecord(RecordType.STDOUT, 1), bytes(1, 6, 0, 1, 0, 0, 0, 0));
    assert.deepEqual(
      encodeRecord(RecordType.STDIN, 0x0102, new Uint8Array(0)),
      bytes(1, 5, 1, 2, 0, 0, 0, 0),
    );
  });

  it("content 1: 7 bytes of padding", () => {
    assert.deepEqual(
      encodeRecord(RecordType.STDOUT, 1, bytes(0x41)),
      bytes(1, 6, 0, 1, 0, 1, 7, 0, 0x41, 0, 0, 0, 0, 0, 0, 0),
    );
  });

  it("content 7: 1 byte of padding", () => {
    assert.deepEqual(
      encodeRecord(RecordType.STDERR, 3, bytes(1, 2, 3, 4, 5, 6, 7)),
      bytes(1, 7, 0, 3, 0, 7, 1, 0, 1, 2, 3, 4, 5, 6, 7, 0),
    );
  });

  it("content 8: no padding", () => {
    assert.deepEqual(
      encodeRecord(RecordType.BEGIN_REQUEST, 1, bytes(0, 1, 1, 0, 0, 0, 0, 0)),
      bytes(1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0),
    );
  });

  it("content 9: 7 bytes of padding", () => {
    assert.deepEqual(
      encodeRecord(RecordType.PARAMS, 0xfffe, bytes(9, 8, 7, 6, 5, 4, 3, 2, 1)),
      bytes(1, 4, 0xff, 0xfe, 0, 9, 7, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0),
    );
  });

  it("encodes a content view, not its whole buffer", () => {
    const buffer = bytes(0xaa, 0x41, 0x42, 0xbb);
    assert.deepEqual(
      encodeRecord(RecordType.STDOUT, 1, buffer.subarray(1, 3)),
      bytes(1, 6, 0, 1, 0, 2, 6, 0, 0x41, 0x42, 0, 0, 0, 0, 0, 0),
    );
  });

  it("accepts 65528 content bytes, rejects 65529 and more with RangeError", () => {
    const record = encodeRecord(RecordType.STDOUT, 1, pattern(65528));
    assert.equal(record.length, 8 + 65528);
    assert.deepEqual(record.subarray(0, 8), bytes(1, 6, 0, 1, 0xff, 0xf8, 0, 0));
    assert.deepEqual(record.subarray(8), pattern(65528));
    for (const length of [65529, 65535, 65536]) {
      assert.throws(() => encodeRecord(RecordType.STDOUT, 1, new Uint8Array(length)), RangeError);
    }
  });

  it("rejects an out-of-range type or request id with RangeError", () => {
    assert.throws(() => encodeRecord(256, 1), RangeError);
    assert.throws(() => encodeRecord(RecordType.STDOUT, 0x10000), RangeError);
    assert.throws(() => encodeRecord(RecordType.STDOUT, -1), RangeError);
    assert.throws(() => encodeStream(RecordType.STDOUT, 0x10000, bytes(1), true), RangeError);
    assert.throws(() => encodeStream(-1, 1, bytes(1)), RangeError);
  });
});

interface RawRecord {
  version: number;
  type: number;
  requestId: number;
  contentLength: number;
  paddingLength: number;
  reserved: number;
  content: Uint8Array;
  padding: Uint8Array;
}

/** Reads records by hand (independent of RecordDecoder), demanding an exact fit. */
function walk(stream: Uint8Array): RawRecord[] {
  const records: RawRecord[] = [];
  let at = 0;
  while (at < stream.length) {
    assert.ok(stream.length - at >= 8, "a whole header remains");
    const contentLength = stream[at + 4] * 256 + stream[at + 5];
    const paddingLength = stream[at + 6];
    const contentStart = at + 8;
    const paddingStart = contentStart + contentLength;
    const next = paddingStart + paddingLength;
    assert.ok(next <= stream.length, "the record fits in the stream");
    records.push({
      version: stream[at],
      type: stream[at + 1],
      requestId: stream[at + 2] * 256 + stream[at + 3],
      contentLength,
      paddingLength,
      reserved: stream[at + 7],
      content: stream.subarray(contentStart, paddingStart),
      padding: stream.subarray(paddingStart, next),
    });
    at = next;
  }
  return records;
}

describe("encodeStream", () => {
  const cases: Array<[number, number[]]> = [
    [0, []],
    [1, [1]],
    [65528, [65528]],
    [65529, [65528, 1]],
    [70000, [65528, 4472]],
    [200000, [65528, 65528, 65528, 3416]],
  ];

  for (const [size, lengths] of cases) {
    for (const end of [false, true]) {
      it(`${size} bytes${end ? " with end" : ""}: records of ${lengths.join("+") || "nothing"}`, () => {
        const content = pattern(size, size);
        const stream = encodeStream(RecordType.STDOUT, 0x0203, content, end);
        const records = walk(stream);
        const expected = end ? [...lengths, 0] : lengths;
        assert.deepEqual(records.map((r) => r.contentLength), expected);
        let total = 0;
        for (const record of records) {
          assert.equal(record.version, 1);
          assert.equal(record.type, RecordType.STDOUT);
          assert.equal(record.requestId, 0x0203);
          assert.equal(record.reserved, 0);
          assert.ok(record.contentLength <= 65528, "content <= 65528");
          assert.ok(
            record.contentLength + record.paddingLength <= 65535,
            "content+padding <= 65535",
          );
          assert.equal((record.contentLength + record.paddingLength) % 8, 0, "padded to 8");
          assert.ok(record.padding.every((b) => b === 0), "padding is zeros");
          total += 8 + record.contentLength + record.paddingLength;
        }
        assert.equal(stream.length, total, "no trailing bytes");
        if (end) assert.deepEqual(stream.subarray(-8), bytes(1, 6, 2, 3, 0, 0, 0, 0));
        assert.deepEqual(concat(...records.map((r) => r.content)), content, "content kept");

        const decoded = decodeChunks([stream]);
        assert.equal(decoded.length, expected.length);
        assert.deepEqual(concat(...decoded.map((r) => r.content)), content, "decodes back");
      });
    }
  }

  it("matches encodeRecord for a small content, byte for byte", () => {
    const content = bytes(1, 2, 3);
    assert.deepEqual(
      encodeStream(RecordType.STDERR, 9, content, true),
      concat(encodeRecord(RecordType.STDERR, 9, content), bytes(1, 7, 0, 9, 0, 0, 0, 0)),
    );
  });

  it("encodes only the view it is given", () => {
    const buffer = pattern(70010);
    const view = buffer.subarray(5, 70005);
    const stream = encodeStream(RecordType.DATA, 1, view);
    assert.deepEqual(concat(...walk(stream).map((r) => r.content)), view);
  });
});
