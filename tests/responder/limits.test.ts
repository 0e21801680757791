// Limits: maxParamsBytes, paramsTimeout, idleTimeout, maxConnections, maxRequests.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serveFastCGI } from "../../mod.ts";
import {
  begin,
  concat,
  GET,
  pairs,
  parseCgi,
  RawConn,
  rec,
  requestBytes,
  stream,
  T,
} from "../support/fcgi_client.ts";
import { sleep, start } from "../support/server.ts";

const OVERLOADED = 2;

function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);
}

const echoPath = (request: Request) => new Response(`ok ${new URL(request.url).pathname}`);

describe("maxParamsBytes", () => {
  it("over the limit in one record: 431, END_REQUEST, the kept connection stays usable", async () => {
    let calls = 0;
    await using s = await start((request) => {
      calls++;
      return echoPath(request);
    }, { maxParamsBytes: 1000 });
    const conn = await RawConn.connect(s.target);
    await conn.write(
      requestBytes({ params: GET("/big", { HTTP_X_BIG: "x".repeat(2000) }), keepConn: true }),
    );
    const first = await conn.reply(1);
    assert.equal(first.protocolStatus, 0);
    assert.equal(parseCgi(first.stdout).status, 431);
    assert.equal(calls, 0, "the handler never saw it");
    conn.clear();
    await conn.write(requestBytes({ params: GET("/next"), keepConn: true }));
    const second = await conn.reply(1);
    assert.equal(parseCgi(second.stdout).text, "ok /next");
    assert.equal(calls, 1);
    assert.equal(conn.isClosed, false);
    conn.close();
  });

  it("over the limit across several PARAMS records (with a body): 431, then the next request works", async () => {
    await using s = await start(
      async (request) => new Response(`len ${(await request.arrayBuffer()).byteLength}`),
      {
        maxParamsBytes: 1000,
      },
    );
    const conn = await RawConn.connect(s.target);
    const block = pairs(GET("/split", { HTTP_X_BIG: "y".repeat(1500), REQUEST_METHOD: "POST" }));
    const request = concat([
      begin(1, 1, true),
      stream(T.PARAMS, 1, block, 400),
      stream(T.STDIN, 1, new Uint8Array(100000).fill(1)),
    ]);
    await conn.write(request);
    assert.equal(parseCgi((await conn.reply(1)).stdout).status, 431);
    conn.clear();
    await conn.write(
      requestBytes({
        params: GET("/after", { REQUEST_METHOD: "POST" }),
        stdin: new Uint8Array(10),
        keepConn: true,
      }),
    );
    assert.equal(parseCgi((await conn.reply(1)).stdout).text, "len 10");
    conn.close();
  });

  it("params exactly at the limit pass", async () => {
    const params = GET("/exact");
    const size = pairs(params).length;
    await using s = await start(echoPath, { maxParamsBytes: size });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params }));
    assert.equal(parseCgi((await conn.reply(1)).stdout).text, "ok /exact");
    conn.close();
  });
});

describe("paramsTimeout", () => {
  it("a connection that stops in the middle of PARAMS is closed", { timeout: 10000 }, async () => {
    await using s = await start(echoPath, { paramsTimeout: 300 });
    const conn = await RawConn.connect(s.target);
    const block = pairs(GET("/stuck"));
    const t0 = Date.now();
    await conn.write(concat([begin(1, 1, true), rec(T.PARAMS, 1, block.subarray(0, 20))]));
    assert.ok(await within(conn.closed, 3000), "closed by the server");
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 2500, `closed after ${elapsed} ms`);
    conn.close();
  });

  it(
    "params that trickle in within the timeout are not cut short",
    { timeout: 10000 },
    async () => {
      // Four connections, staggered over one sweep period, each taking 400 ms
      // for its params with a 500 ms limit: none may be closed, wherever the
      // server's once-a-second sweep falls.
      await using s = await start(echoPath, { paramsTimeout: 500 });
      const one = async (i: number) => {
        await sleep(i * 250);
        const conn = await RawConn.connect(s.target);
        const block = pairs(GET(`/trickle/${i}`));
        const quarter = Math.ceil(block.length / 4);
        await conn.write(begin(1, 1, false));
        for (let at = 0; at < block.length; at += quarter) {
          await sleep(100);
          await conn.write(rec(T.PARAMS, 1, block.subarray(at, at + quarter))).catch(() => {});
        }
        await conn.write(concat([rec(T.PARAMS, 1), rec(T.STDIN, 1)])).catch(() => {});
        const reply = await conn.reply(1, 3000).catch((error) => {
          throw new Error(`connection ${i}: ${error.message}`);
        });
        assert.equal(parseCgi(reply.stdout).text, `ok /trickle/${i}`);
        conn.close();
      };
      await Promise.all([0, 1, 2, 3].map(one));
    },
  );

  it(
    "does not touch a request whose params are complete (slow handler)",
    { timeout: 10000 },
    async () => {
      await using s = await start(async (request) => {
        await sleep(1600);
        return echoPath(request);
      }, { paramsTimeout: 300 });
      const conn = await RawConn.connect(s.target);
      await conn.write(requestBytes({ params: GET("/slow") }));
      const reply = await conn.reply(1, 5000);
      assert.equal(parseCgi(reply.stdout).text, "ok /slow");
      conn.close();
    },
  );

  it(
    "does not touch a slow body upload once the params are complete",
    { timeout: 10000 },
    async () => {
      await using s = await start(
        async (request) => new Response(`len ${(await request.arrayBuffer()).byteLength}`),
        {
          paramsTimeout: 300,
          idleTimeout: 300,
        },
      );
      const conn = await RawConn.connect(s.target);
      const head = requestBytes({ params: GET("/up", { REQUEST_METHOD: "POST" }) });
      await conn.write(head.subarray(0, head.length - 8)); // all but the empty STDIN record
      for (let i = 0; i < 6; i++) {
        await sleep(300);
        await conn.write(rec(T.STDIN, 1, new Uint8Array(5)));
      }
      await conn.write(rec(T.STDIN, 1));
      assert.equal(parseCgi((await conn.reply(1)).stdout).text, "len 30");
      conn.close();
    },
  );
});

describe("idleTimeout", () => {
  it("an idle keep-conn connection is closed by the server", { timeout: 10000 }, async () => {
    await using s = await start(echoPath, { idleTimeout: 500 });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params: GET("/once"), keepConn: true }));
    await conn.reply(1);
    const t0 = Date.now();
    assert.ok(await within(conn.closed, 3500), "closed by the server");
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 2500, `closed after ${elapsed} ms`);
    conn.close();
  });

  it("a connection that never sends anything is closed too", { timeout: 10000 }, async () => {
    await using s = await start(echoPath, { idleTimeout: 500 });
    const conn = await RawConn.connect(s.target);
    assert.ok(await within(conn.closed, 2500), "closed by the server");
    conn.close();
  });

  it("a connection with a request in flight is not closed", { timeout: 10000 }, async () => {
    await using s = await start(async (request) => {
      await sleep(2500);
      return echoPath(request);
    }, { idleTimeout: 500 });
    const conn = await RawConn.connect(s.target);
    await conn.write(requestBytes({ params: GET("/long"), keepConn: true }));
    const reply = await conn.reply(1, 6000);
    assert.equal(parseCgi(reply.stdout).text, "ok /long");
    assert.equal(conn.isClosed, false, "still open right after the reply");
    conn.close();
  });

  it(
    "a busy keep-conn connection (a request every 200 ms) is not closed",
    { timeout: 10000 },
    async () => {
      await using s = await start(echoPath, { idleTimeout: 500 });
      const conn = await RawConn.connect(s.target);
      for (let i = 0; i < 12; i++) {
        conn.clear();
        await conn.write(requestBytes({ params: GET(`/tick/${i}`), keepConn: true }));
        const reply = await conn.reply(1, 2000).catch((error) => {
          throw new Error(`request ${i} after ${i * 200} ms: ${error.message}`);
        });
        assert.equal(parseCgi(reply.stdout).text, `ok /tick/${i}`);
        await sleep(200);
      }
      assert.equal(conn.isClosed, false);
      conn.close();
    },
  );

  it("0 disables it", { timeout: 10000 }, async () => {
    await using s = await start(echoPath, { idleTimeout: 0 });
    const conn = await RawConn.connect(s.target);
    assert.equal(await within(conn.closed, 2200), false);
    conn.close();
  });
});

describe("maxConnections and maxRequests", () => {
  it("maxConnections: a connection over the limit is closed at once", async () => {
    await using s = await start(echoPath, { maxConnections: 2 });
    const a = await RawConn.connect(s.target);
    const b = await RawConn.connect(s.target);
    await sleep(50);
    const c = await RawConn.connect(s.target);
    assert.ok(await within(c.closed, 2000), "the third connection was closed");
    assert.equal(c.chunks.length, 0);
    await a.write(requestBytes({ params: GET("/a") }));
    assert.equal(parseCgi((await a.reply(1)).stdout).text, "ok /a");
    for (const conn of [a, b, c]) conn.close();
    await sleep(50);
    const d = await RawConn.connect(s.target);
    await d.write(requestBytes({ params: GET("/d") }));
    assert.equal(parseCgi((await d.reply(1)).stdout).text, "ok /d", "a slot is free again");
    d.close();
  });

  it("maxConnections: a refusal is logged, and a flood of them only once per 10 s", async () => {
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    try {
      await using s = await start(echoPath, { maxConnections: 1 });
      const a = await RawConn.connect(s.target);
      await sleep(50);
      const refused: RawConn[] = [];
      for (let i = 0; i < 5; i++) {
        const conn = await RawConn.connect(s.target);
        assert.ok(await within(conn.closed, 2000), `connection ${i + 2} was closed`);
        refused.push(conn);
      }
      const lines = logged.filter((line) => line.includes("maxConnections"));
      assert.deepEqual(lines, ["webfcgi: refused a connection: maxConnections (1) are open"]);
      for (const conn of [a, ...refused]) conn.close();
    } finally {
      console.error = original;
    }
  });

  it("maxRequests: a request over the limit gets FCGI_OVERLOADED", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await using s = await start(async (request) => {
      await gate;
      return echoPath(request);
    }, { maxRequests: 1 });
    const a = await RawConn.connect(s.target);
    await a.write(requestBytes({ params: GET("/a") }));
    await sleep(50);
    const b = await RawConn.connect(s.target);
    await b.write(requestBytes({ params: GET("/b") }));
    const refused = await b.reply(1);
    assert.equal(refused.protocolStatus, OVERLOADED);
    release();
    assert.equal(parseCgi((await a.reply(1)).stdout).text, "ok /a");
    for (const conn of [a, b]) conn.close();
  });

  it("limits are validated", () => {
    for (const bad of [-1, NaN, Infinity]) {
      assert.throws(() => serveFastCGI({ port: 0, maxParamsBytes: bad }, echoPath), RangeError);
      assert.throws(() => serveFastCGI({ port: 0, idleTimeout: bad }, echoPath), RangeError);
    }
  });
});
