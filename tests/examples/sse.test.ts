// examples/sse.ts: events leave one at a time (not buffered until the end),
// resume after Last-Event-ID, and the clock stops when the client goes away.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { FastCGIClient } from "../../mod.ts";
import { GET, RawConn, requestBytes, T } from "../support/fcgi_client.ts";
import { waitFor } from "../support/wait.ts";
import { type ServedExample, serveExample, stopExample } from "./_helpers.ts";

interface Arrival {
  at: number;
  text: string;
}

/** Reads SSE events (blocks ending in a blank line) with their arrival times, up to `max`. */
async function readEvents(body: ReadableStream<Uint8Array>, max = Infinity): Promise<Arrival[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: Arrival[] = [];
  let buffer = "";
  while (events.length < max) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0 && events.length < max) {
      events.push({ at: Date.now(), text: buffer.slice(0, end) });
      buffer = buffer.slice(end + 2);
    }
  }
  await reader.cancel();
  return events;
}

describe("examples/sse.ts", () => {
  let app: ServedExample;
  let client: FastCGIClient;
  before(async () => {
    app = await serveExample("sse.ts");
    client = new FastCGIClient({ path: app.socket });
  });
  after(async () => {
    await client?.close();
    if (app !== undefined) assert.equal(await stopExample(app), 0, "exits 0 on SIGTERM");
  });

  it("sends each event as it happens, not all at the end", async () => {
    const interval = 400;
    const start = Date.now();
    const response = await client.fetch(`http://example.test/clock?count=4&interval=${interval}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "no-cache");
    const [retry, ...ticks] = await readEvents(response.body!);
    assert.equal(retry.text, `retry: ${interval}`);
    assert.deepEqual(
      ticks.map((e) => e.text.split("\n").slice(0, 2)),
      [1, 2, 3, 4].map((n) => [`id: ${n}`, "event: tick"]),
    );
    assert.deepEqual(ticks.map((e) => JSON.parse(e.text.split("data: ")[1]).n), [1, 2, 3, 4]);
    // The first event comes at once; each later one about `interval` after
    // the previous. Buffered, they would all arrive together at the end.
    assert.ok(ticks[0].at - start < 3 * interval, `first event after ${ticks[0].at - start} ms`);
    const gaps = ticks.slice(1).map((e, i) => e.at - ticks[i].at);
    for (const gap of gaps) {
      assert.ok(gap >= interval / 2, `gaps between arrivals ${gaps.join(", ")} ms`);
    }
  });

  it("resumes after Last-Event-ID", async () => {
    const response = await client.fetch("http://example.test/clock?count=5&interval=50", {
      headers: { "last-event-id": "3" },
    });
    const events = await readEvents(response.body!);
    assert.deepEqual(events.map((e) => e.text.split("\n")[0]), ["retry: 50", "id: 4", "id: 5"]);
  });

  it("stops the clock when the client cancels (FCGI_ABORT_REQUEST)", async () => {
    const response = await client.fetch("http://example.test/clock?count=100&interval=100");
    const events = await readEvents(response.body!, 3); // retry + 2 ticks, then cancel
    assert.equal(events.length, 3);
    await waitFor(
      () => /sse: client left after [23] of 100 events/.test(app.stderr()),
      5000,
      `the example logs the cancel; stderr: ${app.stderr()}`,
    );
  });

  it("stops the clock when the web server closes the connection", async () => {
    const before = app.stderr().length;
    const conn = await RawConn.connect({ path: app.socket });
    await conn.write(requestBytes({ params: GET("/clock?count=50&interval=100") }));
    // Headers + retry, then two ticks: three STDOUT records.
    const got = await conn.until(
      () => conn.records.filter((r) => r.type === T.STDOUT).length >= 4,
      5000,
    );
    assert.ok(got, "events arrive on the raw connection");
    conn.close();
    await waitFor(
      () => /sse: client left after \d+ of 50 events/.test(app.stderr().slice(before)),
      5000,
      `the example logs the disconnect; stderr: ${app.stderr()}`,
    );
  });

  it("answers 404 elsewhere", async () => {
    const response = await client.fetch("http://example.test/");
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
});
