// RecordDecoder with `pieces`: stream records split across chunks come out
// as pieces (views of the chunks) instead of being assembled.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RecordType } from "../../src/protocol/constants.ts";
import { FastCGIProtocolError } from "../../src/protocol/errors.ts";
import { RecordDecoder } from "../../src/protocol/decoder.ts";
import { encodeRecord } from "../../src/protocol/record.ts";
import { concat, type CopiedRecord, copyRecord, pattern, splitBy, xorshift } from "./_helpers.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

/** A record with explicit (non-zero) padding bytes, so leaked padding shows. */
function padded(type: number, id: number, content: Uint8Array, padding: number): Uint8Array {
  return concat(
    bytes(1, type, id >> 8, id & 0xff, content.length >> 8, content.length & 0xff, padding, 0),
    content,
    new Uint8Array(padding).fill(0xee),
  );
}

const body = pattern(65535, 3);
const records = [
  padded(RecordType.BEGIN_REQUEST, 1, bytes(0, 1, 1, 0, 0, 0, 0, 0), 0),
  padded(RecordType.PARAMS, 1, pattern(300, 1), 4),
  padded(RecordType.PARAMS, 1, bytes(), 0),
  padded(RecordType.STDIN, 1, body, 1),
  padded(RecordType.STDIN, 1, pattern(10, 9), 6),
  // a management record of a stream type is never split: it is whole or nothing
  padded(RecordType.PARAMS, 0, pattern(40, 2), 0),
  padded(RecordType.DATA, 0x0203, pattern(5000, 5), 0),
  padded(RecordType.ABORT_REQUEST, 1, bytes(), 0),
  padded(RecordType.STDIN, 1, bytes(), 0),
];
const stream = concat(...records);

/** What the records mean: each stream's bytes and where it ends, and the whole records. */
function meaning(list: CopiedRecord[]): Array<[string, Uint8Array]> {
  const out: Array<[string, Uint8Array]> = [];
  const streams = new Map<string, Uint8Array[]>();
  for (const r of list) {
    const key = `${r.type}/${r.requestId}`;
    const isStream = r.type >= 4 && r.type <= 8 && r.requestId !== 0;
    if (!isStream) out.push([`${key} whole`, r.content]);
    else if (r.content.length === 0) {
      out.push([`${key} stream, ended`, concat(...(streams.get(key) ?? []))]);
      streams.delete(key);
    } else {
      const parts = streams.get(key) ?? [];
      parts.push(r.content);
      streams.set(key, parts);
    }
  }
  for (const [key, parts] of streams) out.push([`${key} stream, open`, concat(...parts)]);
  return out;
}

const whole = (() => {
  const list: CopiedRecord[] = [];
  new RecordDecoder().push(stream, (r) => list.push(copyRecord(r)));
  return list;
})();

describe("RecordDecoder with pieces", () => {
  it("in one chunk: the same records as without pieces", () => {
    const list: CopiedRecord[] = [];
    new RecordDecoder({ pieces: true }).push(stream, (r) => list.push(copyRecord(r)));
    assert.deepEqual(list, whole);
  });

  it("split anywhere: the same bytes per stream, in order, and no padding", () => {
    const random = xorshift(0xb0d1);
    for (const maxSize of [1, 7, 8, 9, 100, 4096, 65536]) {
      for (let run = 0; run < (maxSize === 1 ? 1 : 10); run++) {
        const chunks = splitBy(stream, () => 1 + random(maxSize));
        const list: CopiedRecord[] = [];
        const decoder = new RecordDecoder({ pieces: true });
        for (const chunk of chunks) {
          decoder.push(chunk, (r) => list.push(copyRecord(r)));
        }
        assert.deepEqual(meaning(list), meaning(whole), `max chunk ${maxSize}, run ${run}`);
      }
    }
  });

  it("never hands over an empty piece: an empty record only ends a stream", () => {
    const random = xorshift(7);
    const chunks = splitBy(stream, () => 1 + random(20));
    const empties: string[] = [];
    const decoder = new RecordDecoder({ pieces: true });
    for (const chunk of chunks) {
      decoder.push(chunk, (r) => {
        if (r.content.length === 0) empties.push(`${r.type}/${r.requestId}`);
      });
    }
    // PARAMS end, ABORT_REQUEST, STDIN end: as many as in the stream
    assert.deepEqual(empties, ["4/1", "2/1", "5/1"]);
  });

  it("gives pieces as views of the chunks, without copying", () => {
    const split = 16 + 8 + 300 + 4 + 8 + 8 + 1000; // inside the big STDIN record
    const first = stream.subarray(0, split);
    const second = stream.subarray(split);
    const stdin: Uint8Array[] = [];
    const decoder = new RecordDecoder({ pieces: true });
    const keep = (r: { type: number; content: Uint8Array }) => {
      if (r.type === RecordType.STDIN && r.content.length > 0) stdin.push(r.content);
    };
    decoder.push(first, keep);
    decoder.push(second, keep);
    assert.equal(stdin[0].length, 1000);
    assert.equal(stdin[0].buffer, stream.buffer);
    assert.equal(stdin[1].length, 65535 - 1000);
    assert.equal(stdin[1].buffer, stream.buffer);
    assert.deepEqual(concat(stdin[0], stdin[1]), body);
  });

  it("a header split across chunks, then the content in pieces", () => {
    const record = encodeRecord(RecordType.STDIN, 9, pattern(100, 4));
    const list: CopiedRecord[] = [];
    const decoder = new RecordDecoder({ pieces: true });
    for (const chunk of [record.subarray(0, 3), record.subarray(3, 50), record.subarray(50)]) {
      decoder.push(chunk, (r) => list.push(copyRecord(r)));
    }
    assert.deepEqual(list.map((r) => r.content.length), [42, 58]);
    assert.deepEqual(concat(...list.map((r) => r.content)), pattern(100, 4));
    assert.ok(list.every((r) => r.type === RecordType.STDIN && r.requestId === 9));
  });

  it("still assembles records that are not request streams (BEGIN_REQUEST, management)", () => {
    const begin = records[0];
    const management = records[5];
    for (const record of [begin, management]) {
      const list: CopiedRecord[] = [];
      const decoder = new RecordDecoder({ pieces: true });
      for (let i = 0; i < record.length; i++) {
        decoder.push(record.subarray(i, i + 1), (r) => list.push(copyRecord(r)));
      }
      assert.equal(list.length, 1);
      assert.deepEqual(list[0].content, record.subarray(8, record.length - record[6]));
    }
  });

  it("a bad version after a record given in pieces still throws FastCGIProtocolError", () => {
    const bad = concat(records[3], bytes(2, 5, 0, 1, 0, 0, 0, 0));
    const decoder = new RecordDecoder({ pieces: true });
    decoder.push(bad.subarray(0, 100), () => {});
    assert.throws(
      () => decoder.push(bad.subarray(100), () => {}),
      (error: unknown) =>
        error instanceof FastCGIProtocolError && /version 2/.test(error.message) &&
        error.where.offset === records[3].length,
    );
  });
});
