// What the responder keeps and sends on its own follows the limits, not the
// wire: replies no handler paces obey backpressure, GET_VALUES answers stay
// small, a Filter's STDIN is bounded, and small pieces of socket chunks are
// copied instead of pinning whole chunks. Driven through a Connection on a
// fake socket, so the test sees every pause and every byte.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { resolveConfig } from "../../src/responder/config.ts";
import { Connection } from "../../src/responder/connection.ts";
import type { FastCGIHandler, FastCGIServeOptions } from "../../mod.ts";
import {
  begin,
  collect,
  concat,
  pairs,
  parseCgi,
  type Rec,
  rec,
  stream,
  T,
} from "../support/fcgi_client.ts";
import { FakeConn, FakeOwner } from "../support/fake_conn.ts";
import { GET } from "../support/fcgi_client.ts";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const KiB = 1024;

function connect(handler: FastCGIHandler, options: FastCGIServeOptions = {}) {
  const fake = new FakeConn();
  const owner = new FakeOwner(resolveConfig(options, handler));
  const connection = new Connection(fake, owner);
  return { fake, owner, connection, data: (chunk: Uint8Array) => fake.handlers!.data(chunk) };
}

/** The records the fake socket received. */
function records(fake: FakeConn): Rec[] {
  const bytes = concat(fake.out);
  const out: Rec[] = [];
  for (let at = 0; at + 8 <= bytes.length;) {
    const length = (bytes[at + 4] << 8) | bytes[at + 5];
    out.push({
      type: bytes[at + 1],
      id: (bytes[at + 2] << 8) | bytes[at + 3],
      content: bytes.slice(at + 8, at + 8 + length),
      padding: bytes[at + 6],
    });
    at += 8 + length + bytes[at + 6];
  }
  return out;
}

async function until(predicate: () => boolean, what: string, turns = 2000): Promise<void> {
  for (let i = 0; i < turns && !predicate(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(predicate(), what);
}

describe("replies no handler paces obey backpressure", () => {
  it("a flood of unknown management records pauses reading while the socket is full", async () => {
    const { fake, data } = connect(() => new Response("never"));
    fake.room = 1000;
    // 512 records of an unknown type, 8 bytes each: 512 UNKNOWN_TYPE replies of 16 bytes.
    data(concat(Array.from({ length: 512 }, () => rec(42, 0))));
    assert.equal(fake.paused, true, "reading paused: the peer is not reading our replies");
    assert.equal(fake.outBytes, 512 * 16, "the chunk already read is still answered");
    fake.drain();
    await tick();
    assert.equal(fake.paused, false, "reading resumes once the socket drained");
  });

  it("refusals (FCGI_OVERLOADED) and our own 4xx answers pause reading too", async () => {
    const overloaded = connect(() => new Response("never"), { maxRequests: 0 });
    overloaded.fake.room = 100;
    overloaded.data(concat(Array.from({ length: 50 }, (_, i) => begin(i + 1, 1, true))));
    assert.equal(overloaded.fake.paused, true);
    assert.equal(records(overloaded.fake).filter((r) => r.type === T.END).length, 50);

    const rejected = connect(() => new Response("never"));
    rejected.fake.room = 100;
    const bad = GET("/x", { HTTP_HOST: "bad host" });
    rejected.data(
      concat([
        begin(1, 1, true),
        stream(T.PARAMS, 1, pairs(bad)),
        stream(T.STDIN, 1, new Uint8Array(0)),
      ]),
    );
    await until(() => rejected.fake.paused, "paused after a 400 that found the socket full");
    assert.equal(parseCgi(collect(records(rejected.fake), 1).stdout).status, 400);
  });

  it("GET_VALUES answers each name once, however often it is asked", () => {
    const { fake, data } = connect(() => new Response("never"));
    const names: Array<[string, string]> = [];
    for (let i = 0; i < 2000; i++) names.push(["FCGI_MPXS_CONNS", ""], ["FCGI_MAX_REQS", ""]);
    const query = pairs(names);
    assert.ok(query.length > 60000 && query.length <= 65535, String(query.length));
    data(rec(T.GET_VALUES, 0, query));
    const [answer] = records(fake);
    assert.equal(answer.type, T.GET_VALUES_RESULT);
    assert.deepEqual(
      new TextDecoder().decode(answer.content),
      "\u000f\u0001FCGI_MPXS_CONNS1\u000d\u0004FCGI_MAX_REQS1000",
    );
  });
});

/** A 64 KiB socket chunk holding `record` and then records for a request id nobody uses. */
function padded(record: Uint8Array): Uint8Array {
  const junk = rec(T.STDIN, 999, new Uint8Array(65528 - record.length - 16));
  return concat([record, junk]);
}

describe("memory follows the bytes kept, not the socket chunks they came in", () => {
  it("params that arrive one byte per chunk are copied: reusing the chunks cannot touch them", async () => {
    let seen: Record<string, string> | undefined;
    const { data } = connect((_request, info) => {
      seen = { ...info.params };
      return new Response("ok");
    });
    const block = pairs(GET("/copied", { HTTP_X: "y".repeat(200) }));
    data(begin(1));
    for (const byte of block) {
      const chunk = padded(rec(T.PARAMS, 1, new Uint8Array([byte])));
      data(chunk);
      // The chunk belongs to the receiver; a view of it kept by the
      // responder would now read zeros.
      chunk.fill(0);
    }
    data(concat([rec(T.PARAMS, 1), rec(T.STDIN, 1)]));
    await until(() => seen !== undefined, "the handler ran");
    assert.equal(seen!.REQUEST_URI, "/copied");
    assert.equal(seen!.HTTP_X, "y".repeat(200));
  });

  it("small unread body pieces are copied; a piece that is most of its chunk is kept as it is", async () => {
    let body: Promise<Uint8Array> | undefined;
    const { data } = connect(async (request) => {
      body = request.bytes();
      return new Response(`${(await body).length}`);
    });
    const params = GET("/up", { REQUEST_METHOD: "POST", CONTENT_LENGTH: String(100 * 8 + 60000) });
    data(concat([begin(1), stream(T.PARAMS, 1, pairs(params))]));
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) {
      const piece = new Uint8Array(8).fill(i + 1);
      expected.push(piece);
      const chunk = padded(rec(T.STDIN, 1, piece));
      data(chunk);
      chunk.fill(0);
    }
    const big = new Uint8Array(60000).fill(7);
    expected.push(big.slice());
    data(rec(T.STDIN, 1, big));
    data(rec(T.STDIN, 1));
    await until(() => body !== undefined, "the handler ran");
    assert.deepEqual(await body, concat(expected));
  });
});

describe("a Filter's STDIN is bounded like the other streams", () => {
  it("a filter that has not read STDIN yet pauses the socket at maxUnreadBody", async () => {
    const { fake, data } = connect(() => new Promise<Response>(() => {}), {
      maxUnreadBody: 256 * KiB,
    });
    data(concat([begin(1, 3), stream(T.PARAMS, 1, pairs(GET("/f")))]));
    const record = rec(T.STDIN, 1, new Uint8Array(32 * KiB));
    let sent = 0;
    while (!fake.paused && sent < 4096 * KiB) {
      data(record.slice());
      sent += 32 * KiB;
      await tick();
    }
    assert.equal(fake.paused, true, "paused");
    assert.ok(sent >= 256 * KiB && sent <= 320 * KiB, `paused after ${sent / KiB} KiB`);
  });

  it("a filter that answers without reading STDIN: the unread rest is dropped, the answer goes out", async () => {
    let stdin: ReadableStream<Uint8Array> | null = null;
    const { fake, data } = connect((request, info) => {
      stdin = request.body; // kept, not read
      return new Response(info.data);
    }, { maxUnreadBody: 256 * KiB });
    const params = GET("/f", { REQUEST_METHOD: "POST", CONTENT_LENGTH: String(3 << 20) });
    data(concat([begin(1, 3), stream(T.PARAMS, 1, pairs(params))]));
    const record = rec(T.STDIN, 1, new Uint8Array(32 * KiB));
    for (let i = 0; i < 96 && !fake.paused; i++) {
      data(record.slice());
      await tick();
    }
    assert.equal(fake.paused, false, "3 MiB of STDIN went by without pausing");
    data(
      concat([rec(T.STDIN, 1), rec(T.DATA, 1, new TextEncoder().encode("file")), rec(T.DATA, 1)]),
    );
    await until(() => records(fake).some((r) => r.type === T.END), "END_REQUEST");
    assert.equal(parseCgi(collect(records(fake), 1).stdout).text, "file");
    const error = await new Response(stdin).arrayBuffer().catch((error) => error);
    assert.ok(error instanceof Error && /maxUnreadBody/.test(error.message), String(error));
  });
});
