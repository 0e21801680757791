// Fault: the handler's response body stream fails after the headers went
// out (the status cannot change any more). What the web server sees: the
// bytes sent so far, STDOUT closed, one END_REQUEST with a non-zero
// appStatus (nginx logs it; the client gets a truncated body), no error
// text. What the operator sees: one log line. The kept connection and the
// app go on serving.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { GET, parseCgi, RawConn, requestBytes, T } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";
import { assertServing, dec, enc, sleep, watchRejections } from "./_helpers.ts";

const rejections = watchRejections();
after(() => rejections.stop());

const SECRET = "s3cret-/srv/app/handler.ts:42";

type Failing = () => ReadableStream<unknown>;

const cases: Array<[string, Failing]> = [
  ["controller.error() after two chunks", () => {
    let n = 0;
    return new ReadableStream({
      pull(controller) {
        if (n++ < 2) controller.enqueue(enc.encode(`part-${n};`));
        else controller.error(new Error(SECRET));
      },
    });
  }],
  ["pull() throws", () => {
    let n = 0;
    return new ReadableStream({
      pull(controller) {
        if (n++ < 1) controller.enqueue(enc.encode("part-1;"));
        else throw new TypeError(SECRET);
      },
    });
  }],
  ["pull() rejects later", () => {
    let n = 0;
    return new ReadableStream({
      async pull(controller) {
        await sleep(20);
        if (n++ < 1) controller.enqueue(enc.encode("part-1;"));
        else throw new RangeError(SECRET);
      },
    });
  }],
  ["a chunk that is not bytes", () => {
    let n = 0;
    return new ReadableStream({
      pull(controller) {
        if (n++ < 1) controller.enqueue(enc.encode("part-1;"));
        else controller.enqueue({ secret: SECRET });
      },
    });
  }],
  ["an error before the first chunk", () =>
    new ReadableStream({
      start(controller) {
        controller.error(new Error(SECRET));
      },
    })],
];

describe("fault: the response body stream errors", () => {
  for (const [name, failing] of cases) {
    it(`${name}: non-zero appStatus, STDOUT closed, nothing leaked, the kept connection goes on`, async () => {
      const logged: string[] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
      try {
        await using s = await start((request) => {
          const path = new URL(request.url).pathname;
          if (path === "/health") return new Response("healthy");
          if (path === "/next") return new Response("next ok");
          return new Response(failing() as ReadableStream<Uint8Array>, {
            headers: { "content-type": "text/plain" },
          });
        });
        const conn = await RawConn.connect(s.target);
        await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/broken") }));
        const reply = await conn.reply(1, 5000);
        assert.equal(reply.protocolStatus, 0);
        assert.notEqual(reply.appStatus, 0, "appStatus reports the failure");
        const ends = reply.records.filter((r) => r.type === T.END);
        assert.equal(ends.length, 1, "one END_REQUEST");
        const last = reply.records.at(-2)!;
        assert.deepEqual(
          [last.type, last.content.length],
          [T.STDOUT, 0],
          "STDOUT closed before END_REQUEST",
        );
        const cgi = parseCgi(reply.stdout);
        assert.equal(cgi.status, 200, "the status that went out first");
        assert.match(cgi.text, /^(part-\d;)*$/, "only what the stream produced");
        const everything = dec.decode(reply.stdout) + dec.decode(reply.stderr);
        assert.ok(
          !everything.includes("s3cret") && !everything.includes(".ts:"),
          "no error detail to the web server",
        );
        assert.ok(
          logged.some((line) => line.includes("response body failed")),
          `one log line for the operator: ${logged.join(" | ")}`,
        );
        conn.clear();
        await conn.write(requestBytes({ id: 1, keepConn: true, params: GET("/next") }));
        const next = await conn.reply(1, 5000);
        assert.equal(next.appStatus, 0);
        assert.equal(
          parseCgi(next.stdout).text,
          "next ok",
          "the kept connection serves the next request",
        );
        conn.close();
        await assertServing(s.target, "on a fresh connection");
        assert.deepEqual(rejections.list, []);
      } finally {
        console.error = original;
      }
    });
  }
});
