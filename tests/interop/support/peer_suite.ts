// The server-less peers: libfcgi's `cgi-fcgi -bind -connect` as a client of
// the in-process app, and `spawn-fcgi` starting the app with its listening
// socket on fd 0 (queried with the raw FastCGI client). Same recorder and
// the same app as the web-server suites; the cases speak FastCGI/CGI
// instead of HTTP.
import { raiseBunDefaultTimeout } from "./bun_timeout.ts";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { serveFastCGI } from "../../../mod.ts";
import type { FastCGIServer } from "../../../mod.ts";
import { findProgram, requirePeer } from "../../support/peers.ts";
import { type AbortRecord, aborts, bigValue, interopApp } from "./app.ts";
import {
  cgiFcgi,
  cgiParams,
  type PeerRequest,
  type PeerResponse,
  RawFcgiConnection,
  type RawOptions,
  rawQuery,
} from "./fcgi_peer.ts";
import { patternBytes, patternSha256, sha256 } from "./pattern.ts";
import { libraryLogSince, logMark, watchLibraryLog } from "./log_watch.ts";
import { makeTempDir } from "./process.ts";
import { type Outcome, ResultsFile } from "./results.ts";
import { runtimeName, spawnAppArgv } from "./runtime.ts";
import type { SocketAddr } from "./tap.ts";

export interface PeerVariant {
  name: string;
  description: string;
  /** "tcp"/"unix": the app runs in-process; "spawn-*": the peer starts it (fd 0). */
  app: "tcp" | "unix" | "spawn-unix" | "spawn-tcp";
  /** How the cases query the app. */
  client: "cgi-fcgi" | "raw";
}

export interface RunningPeer {
  /** Where the app listens. */
  addr: SocketAddr;
  stop(): Promise<void>;
  log(): string;
}

export interface PeerDef {
  name: string;
  program: string;
  package: string;
  variants: PeerVariant[];
  version(): string;
  /** For "spawn-*" variants: start the app through the peer. */
  start?(
    variant: PeerVariant,
    options: { dir: string; spawnCommand: string[] },
  ): Promise<RunningPeer>;
}

export interface PeerContext {
  variant: PeerVariant;
  addr: SocketAddr;
  spawned: boolean;
  /** A request through this variant's client. */
  query(req: PeerRequest): Promise<PeerResponse>;
  /** A request through the raw client (always available). */
  raw(req: PeerRequest, options?: RawOptions): Promise<PeerResponse>;
  waitAbort(token: string, ms: number): Promise<AbortRecord | null>;
  token(label: string): string;
}

export interface PeerCase {
  name: string;
  title: string;
  timeout?: number;
  needs?: "raw" | "cgi-fcgi" | "spawn";
  /** Library log lines this case may cause (in-process apps). */
  allowLog?: RegExp;
  run(ctx: PeerContext): Promise<Outcome>;
}

interface Echo {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  params: Record<string, string>;
  body: { bytes: number; sha256: string } | null;
}

function echoOf(r: PeerResponse): Echo {
  assert.equal(r.status, 200, `status ${r.status}: ${r.text().slice(0, 300)} ${r.stderr}`);
  return r.json<Echo>();
}

const TEN_MB = 10 * 1024 * 1024;
const FIFTY_MB = 50 * 1024 * 1024;

export const PEER_CASES: PeerCase[] = [
  {
    name: "fd0-spawn",
    title: "the app serves the listening socket it inherited on fd 0",
    needs: "spawn",
    async run(ctx) {
      const who = (await ctx.raw({ uri: "/app/whoami" })).json<
        { runtime: string; listen: string; addr: { transport: string } }
      >();
      assert.equal(who.runtime, runtimeName());
      assert.equal(who.listen, "inherited");
      assert.equal(who.addr.transport, ctx.variant.app === "spawn-tcp" ? "tcp" : "unix");
      return "pass";
    },
  },
  {
    name: "url-mapping",
    title: "REQUEST_URI + HTTP_HOST become request.url (non-ASCII, %2F kept)",
    async run(ctx) {
      const e = echoOf(await ctx.query({ uri: "/app/echo/caf%C3%A9/a%2Fb?x=1&y=%20z" }));
      assert.equal(e.method, "GET");
      assert.equal(e.url, "http://example.test:8080/app/echo/caf%C3%A9/a%2Fb?x=1&y=%20z");
      return "pass";
    },
  },
  {
    name: "params-exact",
    title: "the params are exactly cgi-fcgi's environment (nothing added, nothing lost)",
    needs: "cgi-fcgi",
    async run(ctx) {
      const e = echoOf(await ctx.query({ uri: "/app/echo?p=1", headers: [["X-Thing", "v"]] }));
      const sent = Object.fromEntries(
        cgiParams({ uri: "/app/echo?p=1", headers: [["X-Thing", "v"]] }),
      );
      assert.deepEqual(e.params, sent);
      return "pass";
    },
  },
  {
    name: "headers-repeated",
    title: "repeated HTTP_* params (as nginx 1.22/h2o/HAProxy send them) merge",
    needs: "raw",
    async run(ctx) {
      const e = echoOf(
        await ctx.raw({
          uri: "/app/echo",
          headers: [["X-Dup", "a"], ["Cookie", "k1=v1"], ["X-Dup", "b"], ["Cookie", "k2=v2"]],
        }),
      );
      const get = (n: string) => e.headers.find(([k]) => k === n)?.[1];
      assert.equal(get("x-dup"), "a, b");
      assert.equal(get("cookie"), "k1=v1; k2=v2");
      return "pass";
    },
  },
  {
    name: "upload-10mb",
    title: "10 MB POST body, SHA-256 checked",
    timeout: 60000,
    async run(ctx) {
      const body = patternBytes(TEN_MB);
      const e = echoOf(
        await ctx.query({
          method: "POST",
          uri: "/app/upload",
          headers: [["Content-Type", "application/octet-stream"]],
          body,
        }),
      );
      assert.deepEqual(e.body, { bytes: TEN_MB, sha256: sha256(body) });
      return "pass";
    },
  },
  {
    name: "download-50mb",
    title: "50 MB response, SHA-256 checked",
    timeout: 90000,
    async run(ctx) {
      if (ctx.variant.client === "cgi-fcgi") {
        // libfcgi 2.4.2's cgi-fcgi mis-copies a record header split across
        // its 8 KiB reads and exits mid-stream (seen about 1 run in 6 at
        // 50 MB); our bytes check out with the raw client on spawn-fcgi.
        return "expected-difference: cgi-fcgi (libfcgi 2.4.2) corrupts long responses when a record header straddles its 8 KiB reads";
      }
      const r = await ctx.query({ uri: `/app/download?bytes=${FIFTY_MB}`, collect: false });
      assert.equal(r.status, 200);
      assert.equal(r.bytes, FIFTY_MB);
      assert.equal(r.sha256, patternSha256(FIFTY_MB));
      return "pass";
    },
  },
  {
    name: "set-cookie",
    title: "three Set-Cookie lines",
    async run(ctx) {
      const r = await ctx.query({ uri: "/app/cookies" });
      assert.deepEqual(r.getAll("set-cookie"), [
        "a=1; Path=/",
        "b=2; HttpOnly; Path=/",
        "c=3; Max-Age=60; SameSite=Lax",
      ]);
      return "pass";
    },
  },
  {
    name: "redirect",
    title: "Status: 301 + Location",
    async run(ctx) {
      const r = await ctx.query({ uri: "/app/redirect?status=301" });
      assert.equal(r.status, 301);
      assert.equal(r.get("location"), "http://example.test:8080/app/echo/target");
      return "pass";
    },
  },
  {
    name: "no-body-head-204-304",
    title: "HEAD, 204 and 304: header block only",
    async run(ctx) {
      const head = await ctx.query({ method: "HEAD", uri: "/app/text" });
      assert.equal(head.status, 200);
      assert.equal(head.bytes, 0);
      for (const code of [204, 304]) {
        const r = await ctx.query({ uri: `/app/status?code=${code}` });
        assert.equal(r.status, code);
        assert.equal(r.bytes, 0);
      }
      return "pass";
    },
  },
  {
    name: "header-block-5k",
    title: "5 KB of response headers, in one STDOUT record (raw client)",
    async run(ctx) {
      const r = await ctx.query({ uri: "/app/bigheaders?kb=5" });
      assert.equal(r.status, 200);
      for (let i = 0; i < 5; i++) assert.equal(r.get(`x-big-${i}`), bigValue(i));
      if (r.headerInFirstStdout !== null) assert.equal(r.headerInFirstStdout, true);
      return "pass";
    },
  },
  {
    name: "handler-throws",
    title: "a handler that throws: Status 500 and a line on FCGI_STDERR",
    allowLog: /handler failed/,
    async run(ctx) {
      const r = await ctx.query({ uri: "/app/throw" });
      assert.equal(r.status, 500);
      assert.match(r.text(), /Internal Server Error/);
      assert.match(r.stderr, /handler failed/);
      return "pass";
    },
  },
  {
    name: "authorizer",
    title: "Authorizer role: 200 + Variable-USER when allowed, 403 when denied",
    needs: "raw",
    async run(ctx) {
      const allow = await ctx.raw({
        uri: "/private/file",
        role: 2,
        headers: [["Authorization", "Bearer letmein"]],
      });
      assert.equal(allow.status, 200);
      assert.deepEqual(allow.headers.filter(([n]) => n.startsWith("Variable-")).sort(), [
        ["Variable-AUTHZ_BY", "webfcgi"],
        ["Variable-USER", "alice"],
      ]);
      const basic = await ctx.raw({
        uri: "/private/file",
        role: 2,
        params: [["REMOTE_USER", "alice"], ["REMOTE_PASSWD", "secret"]],
      });
      assert.equal(basic.status, 200);
      const deny = await ctx.raw({
        uri: "/private/file",
        role: 2,
        headers: [["Authorization", "Bearer nope"]],
      });
      assert.equal(deny.status, 403);
      assert.match(deny.text(), /denied/);
      return "pass";
    },
  },
  {
    name: "keep-conn",
    title: "FCGI_KEEP_CONN: 3 requests on one connection; without it the app closes",
    needs: "raw",
    async run(ctx) {
      const conn = await RawFcgiConnection.open(ctx.addr);
      try {
        for (let i = 0; i < 3; i++) {
          const r = await conn.request({ uri: `/app/echo?i=${i}` }, { keepConn: true });
          assert.equal(r.status, 200);
          await new Promise((resolve) => setTimeout(resolve, 20));
          assert.equal(conn.closed, false, "the app closed a FCGI_KEEP_CONN connection");
        }
        const last = await conn.request({ uri: "/app/echo?i=last" }, { keepConn: false });
        assert.equal(last.status, 200);
        const closed = await Promise.race([
          conn.whenClosed.then(() => true),
          sleep(3000).then(() => false),
        ]);
        assert.ok(closed, "the app kept the connection open without FCGI_KEEP_CONN");
      } finally {
        conn.close();
      }
      return "pass";
    },
  },
  {
    name: "disconnect-abort",
    title: "closing the connection mid-response fires request.signal",
    needs: "raw",
    async run(ctx) {
      const token = ctx.token("abort");
      const r = await ctx.raw({ uri: `/app/endless?token=${token}&ms=20`, collect: false }, {
        destroyAfterBytes: 200,
      });
      assert.ok(r.bytes >= 200);
      const record = await ctx.waitAbort(token, 5000);
      assert.ok(record?.signal, `request.signal did not fire (${JSON.stringify(record)})`);
      return "pass";
    },
  },
  {
    name: "concurrency-100",
    title: "100 concurrent requests",
    timeout: 60000,
    async run(ctx) {
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) => ctx.query({ uri: `/app/sleep?ms=50&i=${i}` })),
      );
      responses.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.equal(r.json<{ i: string }>().i, String(i));
      });
      return "pass";
    },
  },
  {
    name: "cgi-fcgi-query",
    title: "cgi-fcgi -bind can query the spawned app",
    needs: "spawn",
    async run(ctx) {
      const program = findProgram("cgi-fcgi");
      if (program === null) return "expected-difference: cgi-fcgi (libfcgi-bin) is not installed";
      const e = echoOf(await cgiFcgi(program, ctx.addr, { uri: "/app/echo?via=cgi-fcgi" }));
      assert.equal(e.url, "http://example.test:8080/app/echo?via=cgi-fcgi");
      return "pass";
    },
  },
];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface PeerRun {
  variant: PeerVariant;
  dir: string;
  addr: SocketAddr | null;
  app: FastCGIServer | null;
  peer: RunningPeer | null;
  error: unknown;
  failures: number;
}

/** Registers the suite for a server-less peer. */
export function peerSuite(def: PeerDef, cases: PeerCase[] = PEER_CASES): void {
  raiseBunDefaultTimeout();
  describe(`interop ${def.name}`, () => {
    let found: { path: string | null; why: string };
    try {
      found = requirePeer(def.program, def.package);
    } catch (error) {
      it("is installed", () => {
        throw error;
      });
      return;
    }
    if (found.path === null) {
      it("is installed", { skip: found.why }, () => {});
      return;
    }
    const program = found.path;
    const cgiFcgiPath = def.program === "cgi-fcgi" ? program : findProgram("cgi-fcgi");
    const results = new ResultsFile(def.name);
    const runs = new Map<string, PeerRun>();
    let seq = 0;

    before(async () => {
      watchLibraryLog();
      results.server(
        def.name,
        def.version(),
        Object.fromEntries(
          def.variants.map((v) => [v.name, `${v.description} (client: ${v.client})`]),
        ),
      );
      results.cases(Object.fromEntries(cases.map((c) => [c.name, c.title])));
      await Promise.all(def.variants.map(async (variant) => {
        const dir = makeTempDir(`${def.name}-${variant.name}`);
        const run: PeerRun = {
          variant,
          dir,
          addr: null,
          app: null,
          peer: null,
          error: null,
          failures: 0,
        };
        runs.set(variant.name, run);
        try {
          if (variant.app === "tcp" || variant.app === "unix") {
            const app = serveFastCGI(
              variant.app === "unix"
                ? { path: path.join(dir, "app.sock"), shutdownTimeout: 2000, onListen() {} }
                : { hostname: "127.0.0.1", port: 0, shutdownTimeout: 2000, onListen() {} },
              interopApp({ listen: `in-process ${variant.app}` }),
            );
            run.app = app;
            const bound = await app.listening;
            run.addr = bound.transport === "unix"
              ? { path: bound.path }
              : { port: bound.port, host: bound.hostname };
          } else {
            if (def.start === undefined) throw new Error(`${def.name} cannot spawn`);
            run.peer = await def.start(variant, { dir, spawnCommand: spawnAppArgv() });
            run.addr = run.peer.addr;
          }
        } catch (error) {
          run.error = error;
        }
      }));
      results.flush();
    }, { timeout: 60000 });

    after(async () => {
      await Promise.all([...runs.values()].map(async (run) => {
        await run.peer?.stop().catch(() => {});
        if (run.app !== null) {
          await Promise.race([run.app.shutdown(), sleep(3000)]).catch(() => {});
        }
        if (run.failures === 0 && run.error === null) {
          fs.rmSync(run.dir, { recursive: true, force: true });
        } else console.error(`interop: kept ${run.dir}`);
      }));
      results.flush();
    }, { timeout: 30000 });

    for (const variant of def.variants) {
      describe(`${def.name} ${variant.name}`, () => {
        it("starts", () => {
          const run = runs.get(variant.name);
          if (run === undefined) throw new Error("not started (before hook failed)");
          if (run.error !== null) {
            const log = run.peer?.log() ?? (run.error as { log?: string }).log ?? "";
            throw new Error(
              `${def.name} ${variant.name} could not start: ${
                message(run.error)
              }\n--- log ---\n${log}`,
            );
          }
        });
        for (const c of cases) {
          const spawned = variant.app.startsWith("spawn");
          const skip = c.needs === "spawn" && !spawned
            ? "only where the app is spawned"
            : c.needs === "cgi-fcgi" && variant.client !== "cgi-fcgi"
            ? "only through cgi-fcgi"
            : c.needs === "raw" && variant.client !== "raw"
            ? "needs the raw client (roles, keep-conn, hang-ups)"
            : undefined;
          if (skip !== undefined) {
            it(c.name, { skip }, () => {});
            continue;
          }
          it(c.name, { timeout: c.timeout ?? 30000 }, async () => {
            const run = runs.get(variant.name);
            const started = Date.now();
            const record = (outcome: Outcome, detail?: string) =>
              results.record({
                server: def.name,
                variant: variant.name,
                case: c.name,
                outcome,
                detail,
                ms: Date.now() - started,
              });
            if (run === undefined || run.addr === null) {
              record("fail", "did not start");
              throw new Error(`${def.name} ${variant.name} did not start (see its "starts" test)`);
            }
            const addr = run.addr;
            const raw = (req: PeerRequest, options?: RawOptions) => rawQuery(addr, req, options);
            const ctx: PeerContext = {
              variant,
              addr,
              spawned,
              raw,
              query: (req) =>
                variant.client === "raw" ? raw(req) : cgiFcgi(cgiFcgiPath ?? "cgi-fcgi", addr, req),
              waitAbort: async (token, ms) => {
                if (run.app !== null) return await aborts.wait(token, ms);
                const r = await raw({ uri: `/app/aborted?token=${token}&wait=${ms}` }, {
                  timeout: ms + 5000,
                });
                return r.json<{ record: AbortRecord | null }>().record;
              },
              token: (label) => `${label}-${variant.name}-${++seq}-${Date.now().toString(36)}`,
            };
            const mark = logMark();
            try {
              const outcome = await c.run(ctx);
              assert.deepEqual(
                libraryLogSince(mark, c.allowLog),
                [],
                "the library logged errors for a routine event",
              );
              record(outcome);
            } catch (error) {
              run.failures++;
              record("fail", message(error).split("\n")[0].slice(0, 300));
              const log = run.peer?.log();
              throw log === undefined
                ? error
                : new Error(`${message(error)}\n--- log (tail) ---\n${log.slice(-4000)}`, {
                  cause: error,
                });
            }
          });
        }
      });
    }
  });
}
