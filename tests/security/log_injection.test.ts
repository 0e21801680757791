// Log injection: untrusted text that reaches the operator's log (a method or
// REQUEST_URI in "request rejected", an error message quoting the request)
// cannot start a new line, forge an entry or send terminal escapes. Every
// log entry is one line, followed only by stack frames; CR, LF, the other C0
// controls, DEL, C1 and U+2028/9 arrive escaped (\r, \n, \x1b, ...).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { FastCGIHandler } from "../../mod.ts";
import { escapeControl, RateLimitedLog } from "../../src/responder/log.ts";
import { fetchRaw, GET, type RequestSpec } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

const enc = new TextEncoder();
/** What an attacker appends: a line break, a forged entry, a terminal escape, NEL, LS. */
// U+202E (right-to-left override) would show "end" and what follows reversed.
const EVIL = "\r\nwebfcgi: forged entry\u001b[2J\u0000\u007f\u0085\u2028\u202eend";
const ESCAPED = "\\r\\nwebfcgi: forged entry\\x1b[2J\\x00\\x7f\\x85\\u2028\\u202eend";
// deno-lint-ignore no-control-regex
const CONTROL_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202e]/;

async function logsOf(handler: FastCGIHandler, spec: RequestSpec) {
  const logged: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
  try {
    await using s = await start(handler);
    const r = await fetchRaw(s.target, spec);
    r.conn.close();
    return { status: r.cgi.status, logged };
  } finally {
    console.error = original;
  }
}

/** One line, then nothing but stack frames; no control character but those line breaks. */
function assertOneEntry(entry: string): void {
  const [first, ...rest] = entry.split("\n");
  assert.match(first, /^webfcgi: /);
  assert.doesNotMatch(
    entry,
    CONTROL_BUT_LF,
    `no raw control character in ${JSON.stringify(entry)}`,
  );
  for (const line of rest) {
    assert.match(line, /^\s+at /, `only stack frames follow: ${JSON.stringify(line)}`);
  }
  assert.ok(!rest.some((line) => line.includes("forged")), "nothing forged on a line of its own");
}

describe("log injection", () => {
  it("escapes every C0 control, DEL, C1, U+2028/9 and bidi control, and nothing else", () => {
    const bidi = (code: number) =>
      code === 0x61c || code === 0x200e || code === 0x200f ||
      (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    for (let code = 0; code < 0x3000; code++) {
      const char = String.fromCharCode(code);
      const control = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 ||
        code === 0x2029 || bidi(code);
      const escaped = escapeControl(`a${char}b`);
      if (control) {
        assert.notEqual(escaped, `a${char}b`, `U+${code.toString(16)} is escaped`);
        assert.match(escaped, /^a\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[rnt])b$/);
      } else assert.equal(escaped, `a${char}b`, `U+${code.toString(16)} is kept`);
    }
    assert.equal(escapeControl(EVIL), ESCAPED);
    assert.equal(escapeControl("/caf\u00e9?q=\u{1F600}"), "/caf\u00e9?q=\u{1F600}");
  });

  it("a rejected request: the raw method and REQUEST_URI are logged escaped, on one line", async () => {
    const uri = `/x?${EVIL}`;
    const x = await logsOf(() => new Response("not reached"), {
      // An unparsable Host makes every runtime refuse the request (Bun accepts any method).
      params: GET(uri, { REQUEST_METHOD: `BAD METHOD${EVIL}`, HTTP_HOST: "bad host" }),
    });
    assert.equal(x.status, 400);
    const entries = x.logged.filter((l) => l.includes("rejected"));
    assert.equal(entries.length, 1, JSON.stringify(x.logged));
    assertOneEntry(entries[0]);
    assert.ok(entries[0].includes(`BAD METHOD${ESCAPED}`), entries[0]);
    assert.ok(entries[0].includes(`/x?${ESCAPED}`), entries[0]);
    assert.ok(!entries[0].includes("bad host"), "header values are never logged");
  });

  it("a handler error whose message quotes the request body: escaped, frames kept", async () => {
    const x = await logsOf(async (request) => {
      throw new Error(`cannot use ${await request.text()}`);
    }, {
      params: {
        ...GET("/upload"),
        REQUEST_METHOD: "POST",
        CONTENT_LENGTH: String(enc.encode(EVIL).length),
      },
      stdin: enc.encode(EVIL),
    });
    assert.equal(x.status, 500);
    const entries = x.logged.filter((l) => l.includes("handler failed"));
    assert.equal(entries.length, 1, JSON.stringify(x.logged));
    assertOneEntry(entries[0]);
    assert.ok(entries[0].includes(`cannot use ${ESCAPED}`), entries[0]);
    assert.match(entries[0], /\n\s+at /, "the stack frames are still there, one per line");
  });

  it("a JSON.parse error quoting the body (V8 quotes it; JavaScriptCore does not)", async () => {
    const x = await logsOf(async (request) => {
      return Response.json(JSON.parse(await request.text()));
    }, {
      params: { ...GET("/json"), REQUEST_METHOD: "POST" },
      stdin: enc.encode(`x${EVIL}`),
    });
    assert.equal(x.status, 500);
    const entries = x.logged.filter((l) => l.includes("handler failed"));
    assert.equal(entries.length, 1, JSON.stringify(x.logged));
    assertOneEntry(entries[0]);
    // V8 (Deno, Node): Unexpected token 'x', "x\r\nwebfcgi"... is not valid JSON
    if (entries[0].includes("is not valid JSON")) assert.ok(entries[0].includes('"x\\r\\nwebfcgi'));
  });

  it("a thrown string or object holding control characters", async () => {
    for (const thrown of [`raw ${EVIL}`, { detail: `raw ${EVIL}` }]) {
      const x = await logsOf(() => {
        throw thrown;
      }, { params: GET("/") });
      assert.equal(x.status, 500);
      const entries = x.logged.filter((l) => l.includes("handler failed"));
      assert.equal(entries.length, 1, JSON.stringify(x.logged));
      assertOneEntry(entries[0]);
      assert.equal(entries[0].split("\n").length, 1, "no stack: one line");
      assert.ok(entries[0].includes("raw "), entries[0]);
    }
  });
});

describe("RateLimitedLog", () => {
  it("writes the first line at once, then one per interval with the count in between", () => {
    let now = 1_000_000;
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    try {
      const log = new RateLimitedLog(10_000, () => now);
      const line = (count: number) => `refused ${count}`;
      log.log(line);
      for (let i = 0; i < 4; i++) {
        now += 2000;
        log.log(line);
      }
      assert.deepEqual(logged, ["webfcgi: refused 1"], "four more within 10 s: none written");
      now += 2001;
      log.log(line);
      assert.deepEqual(logged, ["webfcgi: refused 1", "webfcgi: refused 5"]);
    } finally {
      console.error = original;
    }
  });
});
