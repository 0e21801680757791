// Turns a WebServer module into node:test suites: one describe per server,
// one per variant, one test per case. All variants start in parallel in a
// before hook (each in a fresh temp dir, with its own in-process app and
// wire tap, or with the app spawned by the server); every case records its
// outcome; everything is stopped by pid in the after hook, even on failure.
import { raiseBunDefaultTimeout } from "./bun_timeout.ts";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { serveFastCGI } from "../../../mod.ts";
import type { FastCGIHandler, FastCGIServer } from "../../../mod.ts";
import { requirePeer } from "../../support/peers.ts";
import { aborts, type AppMeta, interopApp } from "./app.ts";
import { type CaseContext, HTTP_CASES, type HttpCase } from "./cases.ts";
import { request as httpRequest } from "./http_client.ts";
import { libraryLogSince, logMark, watchLibraryLog } from "./log_watch.ts";
import { makeTempDir } from "./process.ts";
import { type Outcome, ResultsFile } from "./results.ts";
import { spawnAppArgv } from "./runtime.ts";
import {
  BASELINE,
  type RunningServer,
  type Traits,
  type VariantSpec,
  type WebServer,
} from "./servers/types.ts";
import { FcgiTap, type SocketAddr } from "./tap.ts";

interface VariantRun {
  spec: VariantSpec;
  dir: string;
  traits: Traits;
  app: FastCGIServer | null;
  tap: FcgiTap | null;
  server: RunningServer | null;
  error: unknown;
  failures: number;
}

/** The tail of a log, for failure messages. */
function tail(text: string, size = 4000): string {
  return text.length > size ? "…" + text.slice(-size) : text;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Options of a suite. */
export interface SuiteOptions {
  /** The handler of in-process apps (default interopApp; spawned apps are always interopApp). */
  app?: (meta: AppMeta) => FastCGIHandler;
}

async function startVariant(
  server: WebServer,
  spec: VariantSpec,
  makeApp: (meta: AppMeta) => FastCGIHandler,
): Promise<VariantRun> {
  const dir = makeTempDir(`${server.name}-${spec.name}`);
  const run: VariantRun = {
    spec,
    dir,
    traits: { ...BASELINE, ...spec.expect },
    app: null,
    tap: null,
    server: null,
    error: null,
    failures: 0,
  };
  try {
    if (spec.app === "spawn") {
      run.server = await server.start(spec.name, { dir, spawnCommand: spawnAppArgv() });
    } else {
      const unix = spec.app === "unix";
      const app = serveFastCGI(
        unix
          ? { path: path.join(dir, "app.sock"), shutdownTimeout: 2000, onListen() {} }
          : { hostname: "127.0.0.1", port: 0, shutdownTimeout: 2000, onListen() {} },
        makeApp({ listen: `in-process ${spec.app}` }),
      );
      run.app = app;
      const bound = await app.listening;
      const appAddr: SocketAddr = bound.transport === "unix"
        ? { path: bound.path }
        : { port: bound.port, host: bound.hostname };
      let serverAddr = appAddr;
      if (spec.tap !== false) {
        run.tap = await FcgiTap.start(
          unix ? { path: path.join(dir, "tap.sock") } : { port: 0 },
          appAddr,
        );
        serverAddr = run.tap.addr;
      }
      run.server = await server.start(spec.name, { dir, appAddr: serverAddr });
    }
  } catch (error) {
    run.error = error;
  }
  return run;
}

async function stopVariant(run: VariantRun): Promise<void> {
  // The web server first (by pid), then what it talked to.
  await run.server?.stop().catch(() => {});
  await run.tap?.close().catch(() => {});
  if (run.app !== null) {
    const app = run.app;
    await Promise.race([app.shutdown(), new Promise((resolve) => setTimeout(resolve, 3000))]).catch(
      () => {},
    );
  }
  if (run.failures === 0 && run.error === null) {
    fs.rmSync(run.dir, { recursive: true, force: true });
  } else console.error(`interop: kept ${run.dir} (config and logs of a failing variant)`);
}

/**
 * Registers the suite for `server`: `describe("interop <name>")` with a
 * "starts" test and one test per case for every variant.
 */
export function interopSuite(
  server: WebServer,
  cases: HttpCase[] = HTTP_CASES,
  options: SuiteOptions = {},
): void {
  raiseBunDefaultTimeout();
  describe(`interop ${server.name}`, () => {
    let peer: { path: string | null; why: string };
    try {
      peer = server.peer?.() ?? requirePeer(server.program, server.package);
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
    const results = new ResultsFile(server.name);
    const runs = new Map<string, VariantRun>();
    let seq = 0;

    before(async () => {
      watchLibraryLog();
      const version = server.version();
      results.server(
        server.name,
        version,
        Object.fromEntries(
          server.variants.map((v) => [v.name, `${v.description} (app: ${v.app})`]),
        ),
      );
      results.cases(Object.fromEntries(cases.map((c) => [c.name, c.title])));
      const started = await Promise.all(
        server.variants.map((spec) => startVariant(server, spec, options.app ?? interopApp)),
      );
      for (const run of started) runs.set(run.spec.name, run);
      results.flush();
    }, { timeout: 60000 });

    after(async () => {
      await Promise.all([...runs.values()].map(stopVariant));
      results.flush();
    }, { timeout: 30000 });

    for (const spec of server.variants) {
      describe(`${server.name} ${spec.name}`, () => {
        it("starts", () => {
          const run = runs.get(spec.name);
          if (run === undefined) throw new Error("not started (before hook failed)");
          if (run.error !== null) {
            const log = run.server?.log() ?? (run.error as { log?: string }).log ?? "";
            throw new Error(
              `${server.name} ${spec.name} could not start: ${message(run.error)}\n--- log ---\n${
                tail(log, 8000)
              }`,
            );
          }
        });
        for (const c of cases) {
          const skip = spec.skip?.[c.name] ??
            (c.needs === "tap" && (spec.app === "spawn" || spec.tap === false)
              ? "needs the wire tap (the server spawns the app)"
              : c.needs === "spawn" && spec.app !== "spawn"
              ? "only where the server spawns the app"
              : undefined);
          if (skip !== undefined) {
            it(c.name, { skip }, () => {});
            continue;
          }
          it(c.name, { timeout: c.timeout ?? 30000 }, async () => {
            const run = runs.get(spec.name);
            const started = Date.now();
            const record = (outcome: Outcome, detail?: string) =>
              results.record({
                server: server.name,
                variant: spec.name,
                case: c.name,
                outcome,
                detail,
                ms: Date.now() - started,
              });
            if (run === undefined || run.server === null) {
              record("fail", "the server did not start");
              throw new Error(`${server.name} ${spec.name} did not start (see its "starts" test)`);
            }
            const running = run.server;
            const ctx: CaseContext = {
              server: server.name,
              variant: spec,
              traits: run.traits,
              port: running.port,
              tap: run.tap,
              outcome: (...keys) => {
                const differing = keys.filter((k) =>
                  spec.expect?.[k] !== undefined && spec.expect[k] !== BASELINE[k]
                );
                if (differing.length === 0) return "pass";
                const why = differing.map((k) => {
                  const text = spec.why?.[k];
                  if (text === undefined) {
                    throw new Error(`${server.name} ${spec.name}: no "why" for ${k}`);
                  }
                  return text;
                });
                return `expected-difference: ${why.join("; ")}`;
              },
              waitAbort: async (token, ms) => {
                if (run.app !== null) return await aborts.wait(token, ms);
                const r = await httpRequest(running.port, {
                  target: `/app/aborted?token=${token}&wait=${ms}`,
                  timeout: ms + 5000,
                });
                return r.json<{ record: Awaited<ReturnType<CaseContext["waitAbort"]>> }>().record;
              },
              token: (label) => `${label}-${spec.name}-${++seq}-${Date.now().toString(36)}`,
              http: (req) => httpRequest(running.port, req),
            };
            const mark = logMark();
            try {
              const outcome = await c.run(ctx);
              const logged = libraryLogSince(mark, c.allowLog);
              assert.deepEqual(logged, [], "the library logged errors for a routine event");
              record(outcome);
            } catch (error) {
              run.failures++;
              record("fail", message(error).split("\n")[0].slice(0, 300));
              const wrapped = new Error(
                `${server.name} ${spec.name} / ${c.name}: ${
                  message(error)
                }\n--- server log (tail) ---\n${tail(running.log())}`,
                { cause: error },
              );
              throw wrapped;
            }
          });
        }
      });
    }
  });
}
