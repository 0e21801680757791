// What a handler returns never reaches the web server raw: header values
// with CR/LF (or characters whose low byte is one), names that are not
// tokens, statuses outside 200-599, and header blocks too big for one
// FastCGI record turn into a generic 500 with a log line.
// Web `Response` objects are valid by construction (Headers refuses CR/LF);
// Response-like objects (a framework's own class) are checked by webfcgi.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { FastCGIHandler } from "../../mod.ts";
import { fetchRaw, GET, T } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

const latin1 = new TextDecoder("latin1");

/** Runs one request against `handler`, returning the raw STDOUT text, the parsed reply and the log lines. */
async function run(handler: FastCGIHandler, extra: Record<string, string> = {}) {
  const logged: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
  try {
    await using s = await start(handler);
    const r = await fetchRaw(s.target, { params: GET("/", extra) });
    r.conn.close();
    return { r, raw: latin1.decode(r.stdout), logged };
  } finally {
    console.error = original;
  }
}

function like(status: unknown, headers: unknown, body: unknown = null): Response {
  return { status, statusText: "", headers, body, ok: true } as unknown as Response;
}

/** The header block as lines, checked to be `Status: ...` then `token: value` lines only. */
function headLines(raw: string): string[] {
  const end = raw.indexOf("\r\n\r\n");
  assert.ok(end > 0, "a complete header block");
  const lines = raw.slice(0, end).split("\r\n");
  assert.match(lines[0], /^Status: [2-5]\d\d [^\r\n]*$/);
  for (const line of lines.slice(1)) {
    assert.match(
      line,
      /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [^\r\n]*$/,
      `header line ${JSON.stringify(line)}`,
    );
  }
  return lines;
}

function assertGeneric500(result: Awaited<ReturnType<typeof run>>, logPattern: RegExp): void {
  const { r, raw, logged } = result;
  assert.equal(r.protocolStatus, 0);
  assert.equal(r.cgi.status, 500, `status in ${JSON.stringify(raw.slice(0, 200))}`);
  assert.equal(r.cgi.text, "Internal Server Error\n");
  headLines(raw);
  assert.doesNotMatch(raw, /injected|evil/i, "nothing of the bad header reached the web server");
  assert.ok(
    logged.some((line) => logPattern.test(line)),
    `a log line matching ${logPattern}: ${logged.join(" | ")}`,
  );
}

describe("response header values with CR/LF", () => {
  it("web Headers refuse them: the handler throws, the client gets a generic 500", async () => {
    const result = await run(() => new Response("x", { headers: { "x-a": "a\r\nInjected: 1" } }));
    assertGeneric500(result, /handler failed/);
  });

  const values: Array<[string, string]> = [
    ["CR LF", "a\r\nInjected: 1"],
    ["a bare LF", "a\nInjected: 1"],
    ["a bare CR", "a\rInjected: 1"],
    ["NUL", "a\u0000Injected"],
    ["U+010D U+010A (low bytes CR LF)", "a\u010d\u010aInjected: 1"],
    ["U+2603 (no byte form)", "snow\u2603man"],
  ];
  for (const [name, value] of values) {
    for (const form of ["Map", "array"] as const) {
      it(`a Response-like object with ${name} in a value (${form}): 500, never emitted raw`, async () => {
        const entries: Array<[string, string]> = [["x-ok", "fine"], ["x-a", value]];
        const result = await run(() =>
          like(200, form === "Map" ? new Map(entries) : entries, new Response("body").body)
        );
        assertGeneric500(
          result,
          /response header x-a has a value with CR, LF, NUL or a non-byte character/,
        );
      });
    }
  }

  for (const name of ["a b", "x\r\nInjected", "", "a:b", "caf\u00e9", "x\u010a"]) {
    it(`a Response-like object with the header name ${JSON.stringify(name)}: 500`, async () => {
      const result = await run(() => like(200, new Map([[name, "v"]])));
      assertGeneric500(result, /is not a token/);
    });
  }

  it("headers that are not iterable, or whose iterator throws: 500, no hang", async () => {
    for (
      const headers of [{ "x-a": "1" }, {
        [Symbol.iterator]: () => {
          throw new Error("evil");
        },
      }, null]
    ) {
      const result = await run(() => like(200, headers));
      assertGeneric500(result, /handler failed/);
    }
  });

  it("a Response-like body that is not a stream: 500, no hang", async () => {
    const result = await run(() => like(200, new Headers(), "evil string body"));
    assertGeneric500(result, /not a ReadableStream/);
  });

  it("valid Response-like headers go out, lower-cased; Set-Cookie lines stay separate; a `Status` header cannot add a second status", async () => {
    const { r, raw } = await run(() =>
      like(
        201,
        new Map<string, string>([
          ["X-Mixed", "Yes"],
          ["Set-Cookie", "a=1"],
          ["status", "302 Found"],
          ["Connection", "close"],
        ]),
        new Response("made").body,
      )
    );
    const lines = headLines(raw);
    assert.equal(lines[0], "Status: 201 Created");
    assert.deepEqual(lines.slice(1), ["x-mixed: Yes", "set-cookie: a=1"]);
    assert.equal(r.cgi.text, "made");
  });

  it("a statusText with CR/LF stays on the status line", async () => {
    const { raw } = await run(() =>
      ({
        status: 404,
        statusText: "Gone\r\nInjected: 1",
        headers: new Headers(),
        body: null,
      }) as unknown as Response
    );
    const lines = headLines(raw);
    assert.equal(
      lines[0],
      "Status: 404 GoneInjected: 1",
      "CR and LF dropped from the reason phrase",
    );
    assert.equal(lines.length, 1, "no line of its own");
  });
});

describe("status codes out of range", () => {
  const bad: unknown[] = [
    1000,
    99,
    100,
    101,
    199,
    600,
    0.5,
    200.5,
    -200,
    NaN,
    Infinity,
    "200",
    undefined,
    null,
  ];
  for (const status of bad) {
    it(`a Response-like object with status ${String(status)}: 500 and a log line, never emitted`, async () => {
      const result = await run(() =>
        like(status, new Headers({ "x-a": "1" }), new Response("body").body)
      );
      if (typeof status !== "number") {
        // not a number: not a Response(-like) at all
        assertGeneric500(result, /did not return a Response/);
        return;
      }
      assertGeneric500(result, /response status .* is not an integer from 200 to 599/);
      assert.ok(!result.raw.includes(`Status: ${String(status)} `));
    });
  }

  for (const status of [200, 299, 418, 599]) {
    it(`status ${status} from a Response-like object goes out as it is`, async () => {
      const { r } = await run(() => like(status, new Headers(), new Response("b").body));
      assert.equal(r.cgi.status, status);
    });
  }
});

describe("over-long header blocks", () => {
  it("a 300 KB header block is never split across records: a generic 500, whole, in one record", async () => {
    // HAProxy 2.6.12 crashes on a header block split over STDOUT records,
    // even on line boundaries; 64 KB is far beyond any server's limit anyway.
    const headers = new Headers();
    for (let i = 0; i < 300; i++) {
      headers.set(`x-h${String(i).padStart(3, "0")}`, `${i}:` + "a".repeat(1000 + i));
    }
    const result = await run(() => new Response(new Uint8Array(100_000), { headers }));
    assertGeneric500(result, /header block is \d+ bytes; it must fit one FastCGI record/);
    const stdout = result.r.records.filter((x) => x.type === T.STDOUT && x.content.length > 0);
    assert.equal(stdout.length, 1, "the whole 500 response in one STDOUT record");
    assert.doesNotMatch(result.raw, /x-h\d/, "none of the handler's headers went out");
  });
});
