import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RecordType } from "../../src/protocol/constants.ts";
import { FastCGIProtocolError } from "../../src/protocol/errors.ts";
import type { FastCGIRecord } from "../../src/protocol/record.ts";
import { RecordDecoder } from "../../src/protocol/decoder.ts";
import {
  assertRecord,
  assertRecords,
  concat,
  type CopiedRecord,
  copyRecord,
  decodeChunks,
  pattern,
  splitBy,
  throwsProtocolError,
  xorshift,
} from "./_helpers.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const fill = (length: number, value: number) => new Uint8Array(length).fill(value);
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

const big = pattern(65535, 7);

// A stream written out by hand: each segment is one whole record, header
// bytes literal. Padding bytes are non-zero so that leaking them shows.
const segments: Uint8Array[] = [
  // BEGIN_REQUEST, id 1, responder, keep-conn
  bytes(1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0),
  // PARAMS, id 1, content 3, padding 255 (not what we would write)
  concat(bytes(1, 4, 0, 1, 0, 3, 255, 0, 1, 0, 0x41), fill(255, 0xaa)),
  // PARAMS, id 1, empty, but with padding 5
  concat(bytes(1, 4, 0, 1, 0, 0, 5, 0), fill(5, 0xcc)),
  // STDIN, id 0x0102, "hello", padding 3
  concat(bytes(1, 5, 1, 2, 0, 5, 3, 0), ascii("hello"), fill(3, 0xdd)),
  // STDIN, id 0x0102, the largest content (65535), padding 1
  concat(bytes(1, 5, 1, 2, 0xff, 0xff, 1, 0), big, bytes(0xee)),
  // ABORT_REQUEST, id 0xffff, empty, no padding
  bytes(1, 2, 0xff, 0xff, 0, 0, 0, 0),
  // an unknown type 0x40, id 7, content 2, no padding (next record is unaligned)
  bytes(1, 0x40, 0, 7, 0, 2, 0, 0, 0xbe, 0xef),
  // END_REQUEST, id 1, appStatus 0, REQUEST_COMPLETE, reserved byte set
  bytes(1, 3, 0, 1, 0, 8, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0),
  // GET_VALUES_RESULT, id 0, content 1, padding 7
  concat(bytes(1, 10, 0, 0, 0, 1, 7, 0, 0x5a), fill(7, 0x11)),
  // STDIN, id 1, the empty end-of-stream record
  bytes(1, 5, 0, 1, 0, 0, 0, 0),
];

const expected: CopiedRecord[] = [
  { type: RecordType.BEGIN_REQUEST, requestId: 1, content: bytes(0, 1, 1, 0, 0, 0, 0, 0) },
  { type: RecordType.PARAMS, requestId: 1, content: bytes(1, 0, 0x41) },
  { type: RecordType.PARAMS, requestId: 1, content: bytes() },
  { type: RecordType.STDIN, requestId: 0x0102, content: ascii("hello") },
  { type: RecordType.STDIN, requestId: 0x0102, content: big },
  { type: RecordType.ABORT_REQUEST, requestId: 0xffff, content: bytes() },
  { type: 0x40, requestId: 7, content: bytes(0xbe, 0xef) },
  { type: RecordType.END_REQUEST, requestId: 1, content: bytes(0, 0, 0, 0, 0, 0, 0, 0) },
  { type: RecordType.GET_VALUES_RESULT, requestId: 0, content: bytes(0x5a) },
  { type: RecordType.STDIN, requestId: 1, content: bytes() },
];

const stream = concat(...segments);
/** Stream offset just past each record. */
const ends: number[] = [];
for (let at = 0, i = 0; i < segments.length; i++) ends.push(at += segments[i].length);

describe("RecordDecoder: a whole stream", () => {
  it("decodes the hand-written stream in one chunk, every record during that push", () => {
    const decoder = new RecordDecoder();
    assert.equal(decoder.buffered, 0);
    const records: CopiedRecord[] = [];
    decoder.push(stream, (r) => records.push(copyRecord(r)));
    assertRecords(records, expected);
    assert.equal(decoder.buffered, 0);
  });

  it("gives records inside one chunk as views of that chunk, padding excluded", () => {
    const decoder = new RecordDecoder();
    const contents: Uint8Array[] = [];
    decoder.push(stream, (r) => contents.push(r.content));
    assert.equal(contents[1].buffer, stream.buffer);
    assert.equal(contents[1].byteOffset, segments[0].length + 8);
    assert.equal(contents[1].length, 3);
  });

  it("ignores empty chunks", () => {
    const empty = new Uint8Array(0);
    assertRecords(
      decodeChunks([empty, stream.subarray(0, 20), empty, stream.subarray(20)]),
      expected,
    );
  });
});

describe("RecordDecoder: the same stream, split", () => {
  it("split at every offset into two chunks: same records, delivered as soon as whole", () => {
    for (let split = 0; split <= stream.length; split++) {
      const decoder = new RecordDecoder();
      let count = 0;
      // compared on delivery, while the content is guaranteed to be valid
      const onRecord = (record: FastCGIRecord) => {
        assert.ok(count < expected.length, `split ${split}: too many records`);
        assertRecord(record, expected[count], `of record ${count} (split at ${split})`);
        count++;
      };
      decoder.push(stream.subarray(0, split), onRecord);
      const whole = ends.filter((end) => end <= split).length;
      assert.equal(count, whole, `split ${split}: records delivered by chunk 1`);
      const last = whole === 0 ? 0 : ends[whole - 1];
      assert.equal(decoder.buffered, split - last, `split ${split}: bytes buffered`);
      decoder.push(stream.subarray(split), onRecord);
      assert.equal(count, expected.length, `split ${split}: records in all`);
      assert.equal(decoder.buffered, 0);
    }
  });

  it("byte by byte", () => {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
    assertRecords(decodeChunks(chunks), expected);
  });

  it("random chunk sizes (fixed seed)", () => {
    const random = xorshift(0x5eed);
    for (const maxSize of [2, 9, 17, 300, 4096, 70000]) {
      for (let run = 0; run < 20; run++) {
        const chunks = splitBy(stream, () => 1 + random(maxSize));
        assertRecords(decodeChunks(chunks), expected, `(max chunk ${maxSize}, run ${run})`);
      }
    }
  });

  it("keeps its own copy of a partial record: the caller may reuse its chunk buffer", () => {
    // as with Deno's conn.read(buffer): the same buffer refilled for every chunk
    const buffer = new Uint8Array(64);
    const decoder = new RecordDecoder();
    const records: CopiedRecord[] = [];
    const source = concat(segments[0], segments[3], segments[6], segments[8]);
    for (let at = 0; at < source.length; at += 5) {
      const piece = source.subarray(at, at + 5);
      buffer.fill(0xff);
      buffer.set(piece);
      decoder.push(buffer.subarray(0, piece.length), (r) => records.push(copyRecord(r)));
    }
    assertRecords(records, [expected[0], expected[3], expected[6], expected[8]]);
  });

  it("content assembled across chunks stays intact after later pushes", () => {
    const decoder = new RecordDecoder();
    const contents: Uint8Array[] = [];
    const source = concat(segments[3], segments[6]);
    decoder.push(source.subarray(0, 10), (r) => contents.push(r.content));
    decoder.push(source.subarray(10, 17), (r) => contents.push(r.content));
    decoder.push(source.subarray(17), (r) => contents.push(r.content));
    decoder.push(segments[3].slice(), (r) => contents.push(r.content));
    assert.deepEqual(contents.map((c) => [...c]), [
      [...ascii("hello")],
      [0xbe, 0xef],
      [...ascii("hello")],
    ]);
  });
});

describe("RecordDecoder: bad version", () => {
  const good = concat(segments[0], segments[1], segments[6]);
  const badStart = good.length;
  // STDOUT, id 1, content 2, padding 6, but version 2
  const bad = bytes(2, 6, 0, 1, 0, 2, 6, 0, 0x41, 0x42, 0, 0, 0, 0, 0, 0);
  const withBad = concat(good, bad, segments[3]);

  it("in the first record", () => {
    for (const version of [0, 2, 0xff]) {
      const decoder = new RecordDecoder();
      const error = throwsProtocolError(() =>
        decoder.push(bytes(version, 6, 0, 1, 0, 0, 0, 0), () => assert.fail("no record"))
      );
      assert.equal(error.where.context, "record header");
      assert.equal(error.where.offset, 0);
      assert.equal(error.where.recordType, 6);
    }
  });

  it("in a later record: the records before it are delivered, then it throws", () => {
    const decoder = new RecordDecoder();
    const records: CopiedRecord[] = [];
    const error = throwsProtocolError(() =>
      decoder.push(withBad, (r) => records.push(copyRecord(r)))
    );
    assertRecords(records, [expected[0], expected[1], expected[6]]);
    assert.equal(error.where.context, "record header");
    assert.equal(error.where.offset, badStart);
    assert.equal(error.where.recordType, RecordType.STDOUT);
  });

  it("with the bad header straddling two chunks, split at every offset", () => {
    for (let split = 0; split <= withBad.length; split++) {
      const decoder = new RecordDecoder();
      const records: CopiedRecord[] = [];
      const onRecord = (r: FastCGIRecord) => records.push(copyRecord(r));
      let error: unknown;
      try {
        decoder.push(withBad.subarray(0, split), onRecord);
        decoder.push(withBad.subarray(split), onRecord);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof FastCGIProtocolError, `split ${split}: ${String(error)}`);
      assert.equal(error.where.offset, badStart, `split ${split}`);
      assertRecords(records, [expected[0], expected[1], expected[6]], `(split at ${split})`);
    }
  });

  it("byte by byte, and when the bad record follows one assembled from pieces", () => {
    const cases: Array<[Uint8Array, number]> = [
      [withBad, badStart],
      [concat(segments[3], bad), segments[3].length],
    ];
    for (const [source, badAt] of cases) {
      const decoder = new RecordDecoder();
      let error: unknown;
      let at = 0;
      try {
        for (; at < source.length; at++) decoder.push(source.subarray(at, at + 1), () => {});
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof FastCGIProtocolError, String(error));
      // a version byte alone is not yet a header: it throws once 8 bytes are in
      assert.equal(at, badAt + 7);
      assert.equal(error.where.offset, badAt);
    }
  });
});
