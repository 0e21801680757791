// The interop app: one fetch handler that covers every interop case. The
// route is the path segment after "/app/" (so every server can mount it
// under any prefix), options come from the query string.
//
//   echo[/...]           JSON of method, url, headers, params, role, body size + SHA-256
//   upload               same as echo (reads and hashes the body)
//   text                 a small text body (HEAD checks)
//   download?bytes=N     N bytes of the test pattern, generated on the fly (&length=0: no
//                        Content-Length; &token=T: request.signal aborts land in `aborts`)
//   sse?n=5&ms=200       server-sent events, one every ms (&accel=no adds X-Accel-Buffering: no)
//   cookies              three Set-Cookie headers
//   redirect?status=301  Response.redirect to ./echo/target (&relative=1: Location: /app/echo/target)
//   status?code=204      a bodyless status (204, 304)
//   bigheaders?kb=5      about kb KB of response headers (x-big-0 ...)
//   endless?token=T      a slow endless stream; request.signal aborts land in `aborts` (&accel=no)
//   uploadtiming         reads the body; reports when its first and last bytes arrived (epoch ms)
//   aborted?token=T      waits (&wait=ms) for the abort of T and reports it as JSON (from any
//                        app process when WEBFCGI_APP_ABORTS_DIR is set: mod_fcgid runs several)
//   sleep?ms=100&i=1     answers after ms
//   throw                the handler throws
//   whoami               runtime, pid and how the app listens
// Authorizer requests (any route) are allowed with `Authorization: Bearer
// letmein` or REMOTE_USER=alice + REMOTE_PASSWD=secret (200 + Variable-USER),
// else denied with 403.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import type { FastCGIHandler, FastCGIInfo } from "../../../mod.ts";
import { patternChunks } from "./pattern.ts";
import { runtimeName } from "./runtime.ts";

export interface AbortRecord {
  token: string;
  /** request.signal fired */
  signal: boolean;
  /** the response stream was cancelled */
  cancelled: boolean;
  reason: string;
  /** ticks sent before the abort */
  ticks: number;
}

/** Aborts seen by `endless` requests, by token; tests (or the `aborted` route) await them. */
export class AbortRegistry {
  #records = new Map<string, AbortRecord>();
  #waiters = new Map<string, Array<(record: AbortRecord) => void>>();
  // Spawners that run several app processes (mod_fcgid) may route the
  // `aborted` query to another process: records then also go to files here.
  #dir = process.env.WEBFCGI_APP_ABORTS_DIR ?? "";

  note(token: string, kind: "signal" | "cancelled", reason: unknown, ticks: number): void {
    let record = this.#records.get(token);
    if (record === undefined) {
      record = { token, signal: false, cancelled: false, reason: describe(reason), ticks };
      this.#records.set(token, record);
    }
    record[kind] = true;
    if (this.#dir !== "") {
      fs.writeFileSync(this.#file(token), JSON.stringify(record));
    }
    if (kind === "signal") {
      for (const wake of this.#waiters.get(token) ?? []) wake(record);
      this.#waiters.delete(token);
    }
  }

  get(token: string): AbortRecord | undefined {
    return this.#records.get(token);
  }

  /** The record once request.signal fired for `token`, or null after `ms`. */
  wait(token: string, ms: number): Promise<AbortRecord | null> {
    if (this.#dir !== "") return this.#waitShared(token, ms);
    const known = this.#records.get(token);
    if (known?.signal) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.#records.get(token) ?? null), ms);
      const list = this.#waiters.get(token) ?? [];
      list.push((record) => {
        clearTimeout(timer);
        resolve(record);
      });
      this.#waiters.set(token, list);
    });
  }

  #file(token: string): string {
    return path.join(this.#dir, `${token.replace(/[^\w-]/g, "_")}.json`);
  }

  async #waitShared(token: string, ms: number): Promise<AbortRecord | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      let record: AbortRecord | null = null;
      try {
        record = JSON.parse(fs.readFileSync(this.#file(token), "utf8")) as AbortRecord;
      } catch { /* not (yet) written */ }
      if (record?.signal || Date.now() >= deadline) return record;
      await sleep(50);
    }
  }
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  return String(reason);
}

/** The registry of this process. */
export const aborts: AbortRegistry = new AbortRegistry();

/** What the app says about itself (`whoami`). */
export interface AppMeta {
  listen: string;
  addr?: unknown;
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function hashBody(request: Request): Promise<{ bytes: number; sha256: string } | null> {
  if (request.body === null) return null;
  const hash = createHash("sha256");
  let bytes = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    hash.update(value);
  }
  return { bytes, sha256: hash.digest("hex") };
}

function routeOf(url: URL): { route: string; rest: string } {
  const path = url.pathname;
  const at = path.indexOf("/app/");
  if (at < 0) return { route: "echo", rest: "" };
  const tail = path.slice(at + 5);
  const slash = tail.indexOf("/");
  return slash < 0
    ? { route: tail, rest: "" }
    : { route: tail.slice(0, slash), rest: tail.slice(slash) };
}

function authorize(request: Request, info: FastCGIInfo): Response {
  const auth = request.headers.get("authorization");
  const p = info.params;
  const byHeader = auth === "Bearer letmein";
  const byBasic = p.REMOTE_USER === "alice" && p.REMOTE_PASSWD === "secret";
  if (byHeader || byBasic) {
    return new Response(null, {
      status: 200,
      headers: { "Variable-USER": "alice", "Variable-AUTHZ_BY": "webfcgi" },
    });
  }
  return new Response("denied by the webfcgi authorizer\n", {
    status: 403,
    headers: { "content-type": "text/plain" },
  });
}

/** The interop handler. `meta` is what `whoami` reports. */
export function interopApp(meta: AppMeta = { listen: "in-process" }): FastCGIHandler {
  return async (request, info) => {
    if (info.role === "authorizer") return authorize(request, info);
    const url = new URL(request.url);
    const q = url.searchParams;
    const { route } = routeOf(url);
    switch (route) {
      case "":
      case "echo":
      case "upload": {
        const body = await hashBody(request);
        return Response.json({
          method: request.method,
          url: request.url,
          headers: [...request.headers],
          params: { ...info.params },
          role: info.role,
          requestId: info.requestId,
          body,
          runtime: runtimeName(),
        }, { headers: { "cache-control": "no-store" } });
      }
      case "uploadtiming": {
        let first = 0;
        let bytes = 0;
        if (request.body !== null) {
          const reader = request.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            if (first === 0) first = Date.now();
            bytes += value.length;
          }
        }
        return Response.json({ first, end: Date.now(), bytes });
      }
      case "text":
        return new Response("hello interop\n", { headers: { "content-type": "text/plain" } });
      case "download": {
        const total = Number(q.get("bytes") ?? 1048576);
        const chunks = patternChunks(total);
        const token = q.get("token");
        let sent = 0;
        if (token !== null) {
          request.signal.addEventListener(
            "abort",
            () => aborts.note(token, "signal", request.signal.reason, sent),
            { once: true },
          );
        }
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            const next = chunks.next();
            if (next.done) controller.close();
            else {
              sent++;
              controller.enqueue(next.value);
            }
          },
        });
        const headers: Record<string, string> = { "content-type": "application/octet-stream" };
        if (q.get("length") !== "0") headers["content-length"] = String(total);
        return new Response(body, { headers });
      }
      case "sse": {
        const n = Number(q.get("n") ?? 5);
        const ms = Number(q.get("ms") ?? 200);
        const started = Date.now();
        let i = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (i > 0) await sleep(ms);
            if (request.signal.aborted) return controller.close();
            controller.enqueue(
              encoder.encode(`id: ${i}\nevent: tick\ndata: ${i} ${Date.now() - started}\n\n`),
            );
            if (++i >= n) controller.close();
          },
        });
        const headers: Record<string, string> = {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
        };
        if (q.get("accel") === "no") headers["x-accel-buffering"] = "no";
        return new Response(body, { headers });
      }
      case "cookies": {
        const headers = new Headers({ "content-type": "text/plain" });
        headers.append("set-cookie", "a=1; Path=/");
        headers.append("set-cookie", "b=2; HttpOnly; Path=/");
        headers.append("set-cookie", "c=3; Max-Age=60; SameSite=Lax");
        return new Response("three cookies\n", { headers });
      }
      case "redirect": {
        const status = Number(q.get("status") ?? 302);
        if (q.get("relative") === "1") {
          return new Response(null, { status, headers: { location: "/app/echo/target" } });
        }
        return Response.redirect(new URL("/app/echo/target", request.url), status);
      }
      case "status": {
        const code = Number(q.get("code") ?? 204);
        const headers: Record<string, string> = { "x-status-case": String(code) };
        if (code === 304) headers.etag = '"v1"';
        return new Response(null, { status: code, headers });
      }
      case "bigheaders": {
        const kb = Number(q.get("kb") ?? 5);
        const headers = new Headers({ "content-type": "text/plain" });
        for (let i = 0; i < kb; i++) headers.set(`x-big-${i}`, bigValue(i));
        return new Response("big headers\n", { headers });
      }
      case "endless": {
        const token = q.get("token") ?? "none";
        const ms = Number(q.get("ms") ?? 20);
        const started = Date.now();
        let ticks = 0;
        request.signal.addEventListener(
          "abort",
          () => aborts.note(token, "signal", request.signal.reason, ticks),
          {
            once: true,
          },
        );
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            await sleep(ms);
            // Endless for any test, but bounded so nothing leaks forever.
            if (request.signal.aborted || Date.now() - started > 30000) return controller.close();
            controller.enqueue(encoder.encode(`tick ${ticks++} ${"·".repeat(64)}\n`));
          },
          cancel(reason) {
            aborts.note(token, "cancelled", reason, ticks);
          },
        });
        const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8" };
        if (q.get("accel") === "no") headers["x-accel-buffering"] = "no";
        return new Response(body, { headers });
      }
      case "aborted": {
        const token = q.get("token") ?? "none";
        const record = await aborts.wait(token, Number(q.get("wait") ?? 5000));
        return Response.json({ token, record });
      }
      case "sleep": {
        await sleep(Number(q.get("ms") ?? 100));
        return Response.json({ i: q.get("i"), method: request.method });
      }
      case "throw":
        throw new Error("interop: thrown on purpose");
      case "whoami":
        return Response.json({ runtime: runtimeName(), pid: process.pid, ...meta });
      default:
        return new Response(`no route ${route}\n`, { status: 404 });
    }
  };
}

/** The value of header x-big-i: 1000 bytes. */
export function bigValue(i: number): string {
  return `${i}-`.padEnd(1000, String.fromCharCode(97 + (i % 26)));
}
