import { test } from "node:test";
import assert from "node:assert/strict";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { start } from "../support/server.ts";

test("smoke: GET over TCP", async () => {
  await using s = await start((req) => new Response(`hello ${new URL(req.url).pathname}`));
  const r = await fetchRaw(s.target, { params: GET("/x?y=1") });
  assert.equal(r.cgi.status, 200);
  assert.equal(r.cgi.text, "hello /x");
  r.conn.close();
});
