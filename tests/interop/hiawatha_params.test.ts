// Hiawatha's pseudo-params: after the client's headers it appends
// HTTP_SCHEME=http and HTTP_RETURN_CODE=200, which no client sent. They must
// not become request headers (`scheme`, `return-code`) nor merge into a real
// client header of the same name; info.params still shows all it sent.
import { raiseBunDefaultTimeout } from "./support/bun_timeout.ts";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { serveFastCGI } from "../../mod.ts";
import type { FastCGIServer } from "../../mod.ts";
import { requireHiawatha } from "../support/hiawatha_peer.ts";
import { interopApp } from "./support/app.ts";
import { request } from "./support/http_client.ts";
import { makeTempDir } from "./support/process.ts";
import { hiawatha } from "./support/servers/hiawatha.ts";
import type { RunningServer } from "./support/servers/types.ts";
import { FcgiTap, type TapRequest } from "./support/tap.ts";

interface Echo {
  url: string;
  headers: Array<[string, string]>;
  params: Record<string, string>;
}

const PSEUDO = ["HTTP_SCHEME", "HTTPS", "HTTP_RETURN_CODE"];

raiseBunDefaultTimeout();
describe("hiawatha pseudo-params", () => {
  let peer: { path: string | null; why: string };
  try {
    peer = requireHiawatha();
  } catch (error) {
    it("is installed", () => {
      throw error;
    });
    return;
  }
  if (peer.path === null) {
    it("is installed", { skip: peer.why }, () => {});
    return;
  }
  const dir = makeTempDir("hiawatha-params");
  let app: FastCGIServer | null = null;
  let tap: FcgiTap | null = null;
  let server: RunningServer | null = null;
  let failed = false;

  before(async () => {
    app = serveFastCGI(
      { hostname: "127.0.0.1", port: 0, shutdownTimeout: 2000, onListen() {} },
      interopApp(),
    );
    const bound = await app.listening;
    if (bound.transport !== "tcp") throw new Error("the app should listen on TCP");
    tap = await FcgiTap.start({ port: 0 }, { port: bound.port, host: bound.hostname });
    server = await hiawatha.start("tcp", { dir, appAddr: tap.addr });
  }, { timeout: 30000 });

  after(async () => {
    await server?.stop().catch(() => {});
    await tap?.close().catch(() => {});
    await Promise.race([app?.shutdown(), new Promise((r) => setTimeout(r, 3000))]).catch(() => {});
    if (failed) console.error(`hiawatha params: kept ${dir}\n${server?.log() ?? ""}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 15000 });

  /** One echo through Hiawatha, and what the tap saw of it. */
  async function echo(tag: string, headers: Array<[string, string]>) {
    const r = await request(server!.port, { target: `/app/echo?tag=${tag}`, headers });
    assert.equal(r.status, 200, r.text().slice(0, 300));
    const seen = tap!.find(`tag=${tag}`);
    assert.equal(seen.length, 1, "requests the tap saw");
    return { e: r.json<Echo>(), wire: seen[0] as TapRequest & { params: object } };
  }

  const header = (e: Echo, name: string) => e.headers.find(([n]) => n === name)?.[1] ?? null;
  const check = (fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (error) {
      failed = true;
      throw error;
    }
  };

  it(
    "Hiawatha sends HTTP_SCHEME, HTTPS and HTTP_RETURN_CODE last, after the client's headers",
    check(async () => {
      const { wire } = await echo("order", [["X-One", "1"], ["Accept-Language", "en"]]);
      const names = wire.paramNames!;
      assert.deepEqual(names.slice(-3), PSEUDO, `param order: ${names.join(" ")}`);
      const clientAt = ["HTTP_HOST", "HTTP_X_ONE", "HTTP_ACCEPT_LANGUAGE"].map((n) =>
        names.indexOf(n)
      );
      assert.ok(clientAt.every((i) => i >= 0 && i < names.length - 3), names.join(" "));
      assert.match(wire.params!.SERVER_SOFTWARE?.[0] ?? "", /^Hiawatha/);
    }),
  );

  it(
    "(a) a request without Scheme or Return-Code headers has no scheme or return-code header",
    check(async () => {
      const { e, wire } = await echo("plain", [["X-One", "1"]]);
      assert.deepEqual(wire.params!.HTTP_SCHEME, ["http"]);
      assert.deepEqual(wire.params!.HTTP_RETURN_CODE, ["200"]);
      assert.deepEqual(
        { scheme: header(e, "scheme"), "return-code": header(e, "return-code") },
        { scheme: null, "return-code": null },
      );
      assert.equal(header(e, "x-one"), "1");
    }),
  );

  it(
    "(b) the client's Scheme: evil and Return-Code: 999 arrive as sent, not merged with Hiawatha's",
    check(async () => {
      const { e, wire } = await echo("evil", [["Scheme", "evil"], ["Return-Code", "999"]]);
      assert.deepEqual(wire.params!.HTTP_SCHEME, ["evil", "http"]);
      assert.deepEqual(wire.params!.HTTP_RETURN_CODE, ["999", "200"]);
      assert.deepEqual(
        { scheme: header(e, "scheme"), "return-code": header(e, "return-code") },
        { scheme: "evil", "return-code": "999" },
      );
    }),
  );

  it(
    "(c) info.params shows what Hiawatha sent, repeats merged",
    check(async () => {
      const plain = await echo("params-plain", []);
      assert.equal(plain.e.params.HTTP_SCHEME, "http");
      assert.equal(plain.e.params.HTTP_RETURN_CODE, "200");
      const evil = await echo("params-evil", [["Scheme", "evil"], ["Return-Code", "999"]]);
      assert.equal(evil.e.params.HTTP_SCHEME, "evil, http");
      assert.equal(evil.e.params.HTTP_RETURN_CODE, "999, 200");
    }),
  );

  it(
    "(d) request.url has the http scheme, also when the client sends Scheme: evil",
    check(async () => {
      for (const headers of [[], [["Scheme", "evil"]]] as Array<Array<[string, string]>>) {
        const { e } = await echo(`url-${headers.length}`, headers);
        assert.equal(new URL(e.url).protocol, "http:");
      }
    }),
  );
});
