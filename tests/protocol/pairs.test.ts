import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RecordType } from "../../src/protocol/constants.ts";
import { RecordDecoder } from "../../src/protocol/decoder.ts";
import {
  decodeBinaryPairs,
  decodePairs,
  encodePairs,
  forEachPair,
} from "../../src/protocol/pairs.ts";
import { encodeStream } from "../../src/protocol/record.ts";
import { concat, decodeChunks } from "./_helpers.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const letters = (length: number, letter = "n") => letter.repeat(length);

describe("name-value pairs: fixtures", () => {
  it("1-byte lengths", () => {
    const blob = bytes(1, 1, 0x41, 0x42, 4, 3, ...ascii("HOSTabc"));
    assert.deepEqual(encodePairs([["A", "B"], ["HOST", "abc"]]), blob);
    assert.deepEqual(decodePairs(blob), [["A", "B"], ["HOST", "abc"]]);
  });

  it("empty name and value", () => {
    assert.deepEqual(encodePairs([["", ""]]), bytes(0, 0));
    assert.deepEqual(decodePairs(bytes(0, 0, 1, 0, 0x58)), [["", ""], ["X", ""]]);
    assert.deepEqual(decodePairs(bytes()), []);
  });

  it("name length 127 takes 1 byte, 128 takes 4 (high bit set)", () => {
    const blob127 = concat(bytes(127, 1), ascii(letters(127)), ascii("v"));
    assert.deepEqual(encodePairs([[letters(127), "v"]]), blob127);
    assert.deepEqual(decodePairs(blob127), [[letters(127), "v"]]);

    const blob128 = concat(bytes(0x80, 0, 0, 128, 1), ascii(letters(128)), ascii("v"));
    assert.deepEqual(encodePairs([[letters(128), "v"]]), blob128);
    assert.deepEqual(decodePairs(blob128), [[letters(128), "v"]]);
  });

  it("value length 127 takes 1 byte, 128 takes 4 (high bit set)", () => {
    const blob127 = concat(bytes(1, 127), ascii("N"), ascii(letters(127, "v")));
    assert.deepEqual(encodePairs([["N", letters(127, "v")]]), blob127);
    assert.deepEqual(decodePairs(blob127), [["N", letters(127, "v")]]);

    const blob128 = concat(bytes(1, 0x80, 0, 0, 128), ascii("N"), ascii(letters(128, "v")));
    assert.deepEqual(encodePairs([["N", letters(128, "v")]]), blob128);
    assert.deepEqual(decodePairs(blob128), [["N", letters(128, "v")]]);
  });

  it("both lengths in the 4-byte form, all bytes of the length used", () => {
    // 0x00010203 = 66051 bytes of name, 0x00000100 = 256 bytes of value
    const name = letters(0x010203, "a");
    const value = letters(0x100, "b");
    const blob = concat(bytes(0x80, 1, 2, 3, 0x80, 0, 1, 0), ascii(name), ascii(value));
    assert.deepEqual(encodePairs([[name, value]]), blob);
    assert.deepEqual(decodePairs(blob), [[name, value]]);
  });

  it("the top 7 bits of a 4-byte length count: 0x81000001 is 16777217", () => {
    const value = new Uint8Array(0x1000001).fill(0x76);
    value[value.length - 1] = 0x77;
    const blob = concat(bytes(1, 0x81, 0, 0, 1), ascii("N"), value);
    assert.deepEqual(encodePairs([["N", value]]), blob);
    const [[name, decoded]] = decodeBinaryPairs(blob);
    assert.deepEqual(name, ascii("N"));
    assert.equal(decoded.length, 0x1000001);
    assert.equal(decoded[decoded.length - 1], 0x77);
  });

  it("a 4-byte length that is small (0x80000005 = 5) decodes", () => {
    const blob = bytes(0x80, 0, 0, 5, 0x80, 0, 0, 2, ...ascii("HELLOhi"), 1, 1, 0x41, 0x42);
    assert.deepEqual(decodePairs(blob), [["HELLO", "hi"], ["A", "B"]]);
    assert.deepEqual(decodeBinaryPairs(blob), [[ascii("HELLO"), ascii("hi")], [
      ascii("A"),
      ascii("B"),
    ]]);
  });

  it("forEachPair reports the name and value ranges", () => {
    const seen: number[][] = [];
    forEachPair(bytes(1, 2, 0x41, 0x42, 0x43, 0x80, 0, 0, 1, 0, 0x44), (b, ns, ne, vs, ve) => {
      assert.equal(b.length, 11);
      seen.push([ns, ne, vs, ve]);
    });
    assert.deepEqual(seen, [[2, 3, 3, 5], [10, 11, 11, 11]]);
  });

  it("decodes from a view at a non-zero offset of a larger buffer", () => {
    const buffer = bytes(0xff, 0xff, 1, 1, 0x41, 0x42, 0xff);
    assert.deepEqual(decodePairs(buffer.subarray(2, 6)), [["A", "B"]]);
    assert.deepEqual(decodeBinaryPairs(buffer.subarray(2, 6)), [[ascii("A"), ascii("B")]]);
  });
});

describe("name-value pairs: contents", () => {
  it("binary names and values: decodeBinaryPairs and encodePairs with Uint8Array parts", () => {
    const blob = bytes(2, 3, 0x00, 0xff, 0xff, 0x00, 0x80, 1, 0, 0x41);
    const pairs: Array<[Uint8Array, Uint8Array]> = [
      [bytes(0x00, 0xff), bytes(0xff, 0x00, 0x80)],
      [bytes(0x41), bytes()],
    ];
    assert.deepEqual(encodePairs(pairs), blob);
    assert.deepEqual(decodeBinaryPairs(blob), pairs);
    // mixed string and bytes parts
    assert.deepEqual(
      encodePairs([["A", bytes(0)], [bytes(0xfe), "B"]]),
      bytes(1, 1, 0x41, 0, 1, 1, 0xfe, 0x42),
    );
  });

  it("decodeBinaryPairs returns copies, not views into the input", () => {
    const blob = bytes(1, 1, 0x41, 0x42);
    const [[name, value]] = decodeBinaryPairs(blob);
    blob.fill(0);
    assert.deepEqual([name, value], [ascii("A"), ascii("B")]);
  });

  it("decodePairs turns invalid UTF-8 into U+FFFD", () => {
    assert.deepEqual(decodePairs(bytes(1, 2, 0x41, 0xff, 0x42)), [["A", "\uFFFDB"]]);
  });

  it("UTF-8 names and values round-trip, short and long", () => {
    const pairs: Array<[string, string]> = [
      ["é", "€"],
      ["HTTP_X_NAME", "日本語のテキスト"],
      ["EMOJI", "🙂 and more 🙂"],
      ["\uFEFFBOM_NAME", "\uFEFF value that starts with a byte order mark"],
      ["LONG_" + "ü".repeat(100), "ß".repeat(200) + "\u0000" + "x".repeat(60)],
      ["ASCII_LONG", "y".repeat(49)],
      ["NUL", "\u0000\u007f"],
    ];
    // a fixture for the first pair: é is C3 A9, € is E2 82 AC
    assert.deepEqual(encodePairs([pairs[0]]), bytes(2, 3, 0xc3, 0xa9, 0xe2, 0x82, 0xac));
    assert.deepEqual(decodePairs(encodePairs(pairs)), pairs);
  });

  it("a leading byte order mark is kept, not stripped", () => {
    const blob = bytes(1, 4, 0x41, 0xef, 0xbb, 0xbf, 0x42);
    assert.deepEqual(decodePairs(blob), [["A", "\uFEFFB"]]);
  });

  it("repeated names are kept, in order", () => {
    const pairs: Array<[string, string]> = [
      ["HTTP_COOKIE", "a=1"],
      ["X", "1"],
      ["HTTP_COOKIE", "b=2"],
      ["X", "2"],
    ];
    const blob = encodePairs(pairs);
    assert.deepEqual(
      blob,
      concat(
        bytes(11, 3),
        ascii("HTTP_COOKIEa=1"),
        bytes(1, 1),
        ascii("X1"),
        bytes(11, 3),
        ascii("HTTP_COOKIEb=2"),
        bytes(1, 1),
        ascii("X2"),
      ),
    );
    assert.deepEqual(decodePairs(blob), pairs);
  });

  it("encodePairs accepts a plain object, a Map and a generator", () => {
    const expected = bytes(1, 1, 0x41, 0x31, 2, 0, 0x42, 0x43);
    assert.deepEqual(encodePairs({ A: "1", BC: "" }), expected);
    assert.deepEqual(encodePairs(new Map([["A", "1"], ["BC", ""]])), expected);
    function* generate(): Generator<[string, string]> {
      yield ["A", "1"];
      yield ["BC", ""];
    }
    assert.deepEqual(encodePairs(generate()), expected);
    assert.deepEqual(encodePairs({ A: bytes(0xff) }), bytes(1, 1, 0x41, 0xff));
    assert.deepEqual(encodePairs({}), bytes());
  });
});

describe("name-value pairs across records", () => {
  const pairs: Array<[string, string]> = [
    ["SCRIPT_FILENAME", "/srv/www/index.php"],
    ["N".repeat(130), "V".repeat(300)],
    ["QUERY_STRING", ""],
    ["HTTP_X_UNICODE", "ünïcödé ✓"],
  ];
  const blob = encodePairs(pairs);

  it("a blob cut into PARAMS records of 3 content bytes decodes to the same pairs", () => {
    // Records written by hand: version 1, PARAMS, id 1, content 3, padding 5.
    const records: Uint8Array[] = [];
    for (let at = 0; at < blob.length; at += 3) {
      const content = blob.subarray(at, at + 3);
      const padding = (8 - (content.length % 8)) % 8;
      records.push(
        bytes(1, 4, 0, 1, 0, content.length, padding, 0),
        content,
        new Uint8Array(padding),
      );
    }
    records.push(bytes(1, 4, 0, 1, 0, 0, 0, 0)); // the empty record ending PARAMS
    const stream = concat(...records);

    for (const chunkSize of [stream.length, 1, 7, 13]) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < stream.length; at += chunkSize) {
        chunks.push(stream.subarray(at, at + chunkSize));
      }
      const decoded = decodeChunks(chunks);
      assert.equal(decoded.length, Math.ceil(blob.length / 3) + 1);
      assert.ok(decoded.every((r) => r.type === RecordType.PARAMS && r.requestId === 1));
      assert.equal(decoded[decoded.length - 1].content.length, 0);
      assert.deepEqual(decodePairs(concat(...decoded.map((r) => r.content))), pairs);
    }
  });

  it("a value longer than one record, split by encodeStream, decodes", () => {
    const long: Array<[string, string]> = [["A", "a"], ["BIG", "z".repeat(70000)], ["B", "b"]];
    const stream = encodeStream(RecordType.PARAMS, 3, encodePairs(long), true);
    const decoder = new RecordDecoder();
    const contents: Uint8Array[] = [];
    decoder.push(stream, (r) => contents.push(r.content.slice()));
    assert.equal(contents.length, 3);
    assert.deepEqual(decodePairs(concat(...contents)), long);
  });
});
