import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fetchRaw, GET, RawConn, requestBytes, T } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

describe("responses", () => {
  it("sends an explicit Status line with the reason phrase, for every status", async () => {
    const cases: Array<[number, string, string]> = [
      [200, "", "200 OK"],
      [201, "", "201 Created"],
      [302, "", "302 Found"],
      [404, "", "404 Not Found"],
      [418, "", "418 I'm a Teapot"],
      [451, "", "451 Unavailable For Legal Reasons"],
      [503, "Down For Maintenance", "503 Down For Maintenance"],
      [599, "", "599 Server Error"],
    ];
    await using s = await start((req) => {
      const status = Number(new URL(req.url).searchParams.get("s"));
      const text = new URL(req.url).searchParams.get("t") ?? "";
      return new Response("x", { status, statusText: text });
    });
    for (const [status, text, line] of cases) {
      const r = await fetchRaw(s.target, {
        params: GET(`/?s=${status}&t=${encodeURIComponent(text)}`),
      });
      assert.equal(r.cgi.statusLine, line);
      assert.ok(`${r.cgi.head}\r\n`.startsWith(`Status: ${line}\r\n`), "Status comes first");
      r.conn.close();
    }
  });

  it("sends each Set-Cookie on its own line and keeps other headers", async () => {
    await using s = await start(() => {
      const headers = new Headers({ "content-type": "text/plain", "x-multi": "a" });
      headers.append("x-multi", "b");
      headers.append("set-cookie", "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/");
      headers.append("set-cookie", "b=2");
      headers.append("set-cookie", "c=3; HttpOnly");
      return new Response("cookies", { headers });
    });
    const r = await fetchRaw(s.target, { params: GET("/") });
    const cookies = r.cgi.headers.filter(([n]) => n === "set-cookie").map(([, v]) => v);
    assert.deepEqual(cookies, [
      "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/",
      "b=2",
      "c=3; HttpOnly",
    ]);
    assert.deepEqual(r.cgi.headers.find(([n]) => n === "x-multi"), ["x-multi", "a, b"]);
    assert.deepEqual(r.cgi.headers.find(([n]) => n === "content-type"), [
      "content-type",
      "text/plain",
    ]);
    assert.equal(r.cgi.text, "cookies");
    r.conn.close();
  });

  it("sends redirects with an explicit Status and Location", async () => {
    await using s = await start(() => Response.redirect("https://example.test/next", 301));
    const r = await fetchRaw(s.target, { params: GET("/") });
    assert.equal(r.cgi.status, 301);
    assert.deepEqual(r.cgi.headers.find(([n]) => n === "location"), [
      "location",
      "https://example.test/next",
    ]);
    r.conn.close();
  });

  it("strips hop-by-hop headers the handler set", async () => {
    await using s = await start(() =>
      new Response("x", {
        headers: {
          "transfer-encoding": "chunked",
          connection: "close",
          "keep-alive": "timeout=5",
          upgrade: "h2c",
          trailer: "x",
          te: "gzip",
          "x-kept": "yes",
        },
      })
    );
    const r = await fetchRaw(s.target, { params: GET("/") });
    // (Bun's Response("x") carries no content-type header; Deno's and Node's do.)
    assert.deepEqual(r.cgi.headers.map(([n]) => n).filter((n) => n !== "content-type"), ["x-kept"]);
    r.conn.close();
  });

  for (
    const [name, method, status] of [["HEAD", "HEAD", 200], ["204", "GET", 204], [
      "304",
      "GET",
      304,
    ]] as const
  ) {
    it(`sends no body for ${name} and cancels the handler's body`, async () => {
      let cancelled = false;
      await using s = await start(() => {
        const body = new ReadableStream({
          pull(c) {
            c.enqueue(new TextEncoder().encode("must not be sent"));
          },
          cancel() {
            cancelled = true;
          },
        });
        const headers = new Headers({ "content-length": "16" });
        // Response() refuses bodies for 204/304; a Response-like object (a
        // framework's own class) can still carry one, and must not leak it.
        if (status !== 200) return { status, statusText: "", headers, body } as unknown as Response;
        return new Response(body, { status, headers });
      });
      const r = await fetchRaw(s.target, { params: GET("/", { REQUEST_METHOD: method }) });
      assert.equal(r.cgi.status, status);
      assert.equal(r.cgi.body.length, 0);
      assert.equal(cancelled, true);
      if (method === "HEAD") {
        assert.deepEqual(r.cgi.headers.find(([n]) => n === "content-length"), [
          "content-length",
          "16",
        ]);
      }
      r.conn.close();
    });
  }

  it("streams the body as the handler produces it", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    await using s = await start(() => {
      const enc = new TextEncoder();
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(enc.encode("data: first\n\n"));
            await gate;
            c.enqueue(enc.encode("data: second\n\n"));
            c.close();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params: GET("/sse") }));
    const stdoutText = () =>
      new TextDecoder().decode(
        Uint8Array.from(
          conn.records.filter((r) => r.type === T.STDOUT).flatMap((r) => [...r.content]),
        ),
      );
    assert.ok(
      await conn.until(() => stdoutText().includes("data: first")),
      "first event arrives before the stream ends",
    );
    assert.equal(conn.records.some((r) => r.type === T.END), false);
    release();
    const reply = await conn.reply(1);
    assert.ok(new TextDecoder().decode(reply.stdout).endsWith("data: first\n\ndata: second\n\n"));
    conn.close();
  });

  it("sends a 5 MiB body intact, in records of at most 65528 bytes padded to 8", async () => {
    const body = new Uint8Array(5 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 255;
    await using s = await start(() => new Response(body));
    const r = await fetchRaw(s.target, { params: GET("/big") });
    assert.equal(r.cgi.body.length, body.length);
    assert.equal(
      createHash("sha256").update(r.cgi.body).digest("hex"),
      createHash("sha256").update(body).digest("hex"),
    );
    for (const record of r.records) {
      assert.ok(record.content.length <= 65528);
      assert.equal((record.content.length + record.padding) % 8, 0);
    }
    const types = r.records.map((x) => x.type);
    assert.equal(types.at(-1), T.END);
    assert.equal(r.records.at(-2)!.type, T.STDOUT);
    assert.equal(r.records.at(-2)!.content.length, 0, "STDOUT ends with its empty record");
    r.conn.close();
  });

  it("puts the whole header block in one STDOUT record; a block over 65528 bytes is a 500, never split", async () => {
    // HAProxy 2.6.12 crashes on a header block split over records, even on line boundaries.
    await using s = await start((req) => {
      const q = new URL(req.url).searchParams;
      const headers = new Headers();
      for (let i = 0; i < Number(q.get("lines") ?? 1); i++) {
        headers.set(`x-big-${i}`, "v".repeat(Number(q.get("n"))));
      }
      return new Response("b", { headers });
    });
    const headerRecord = (r: { records: Array<{ type: number; content: Uint8Array }> }) => {
      const stdout = r.records.filter((x) => x.type === T.STDOUT && x.content.length > 0);
      const text = new TextDecoder("latin1").decode(stdout[0].content);
      assert.ok(text.includes("\r\n\r\n"), "the first STDOUT record holds the whole header block");
      return stdout[0].content.length;
    };
    for (const n of [4000, 60000]) {
      const r = await fetchRaw(s.target, { params: GET(`/?n=${n}`) });
      headerRecord(r);
      assert.equal(r.cgi.headers.find(([h]) => h === "x-big-0")![1].length, n);
      r.conn.close();
    }
    // The largest block that fits: exactly 65528 bytes, still one record.
    const probe = await fetchRaw(s.target, { params: GET(`/?n=1000`) });
    const overhead = headerRecord(probe) - 1000;
    probe.conn.close();
    const fits = await fetchRaw(s.target, { params: GET(`/?n=${65528 - overhead}`) });
    assert.equal(fits.cgi.status, 200);
    assert.equal(headerRecord(fits), 65528);
    assert.equal(fits.cgi.text, "b");
    fits.conn.close();
    // One byte more, one long line, or many short lines: a 500, whole, in one record.
    for (const query of [`n=${65529 - overhead}`, "n=70000", "lines=70&n=1000"]) {
      const r = await fetchRaw(s.target, { params: GET(`/?${query}`) });
      assert.equal(r.cgi.status, 500, query);
      headerRecord(r);
      assert.equal(r.cgi.headers.find(([h]) => h === "x-big-0"), undefined);
      assert.match(r.cgi.text, /Internal Server Error/);
      assert.match(new TextDecoder().decode(r.stderr), /webfcgi/, "a STDERR line");
      assert.equal(r.protocolStatus, 0);
      r.conn.close();
    }
  });

  it("sends a small response (headers, body, end) in one socket write", async () => {
    await using s = await start(() => new Response("tiny"));
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params: GET("/") }));
    await conn.reply(1);
    assert.equal(conn.chunks.length, 1, "everything arrived in one chunk");
    conn.close();
  });

  it("accepts a body of strings and other views from a hand-made stream", async () => {
    await using s = await start(() =>
      new Response(
        new ReadableStream<unknown>({
          start(c) {
            c.enqueue(new Uint8Array([104, 105]));
            c.enqueue(new DataView(new Uint8Array([33]).buffer));
            c.close();
          },
        }) as ReadableStream<Uint8Array>,
      )
    );
    const r = await fetchRaw(s.target, { params: GET("/") });
    assert.equal(r.cgi.text, "hi!");
    r.conn.close();
  });
});
