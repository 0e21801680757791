// The FastCGI Authorizer cases: a web server asks the app (authorizer_app.ts)
// whether a request may proceed, then serves a static file or passes the
// request to the app as a Responder. Run by interopSuite with the
// authorizer app (apache_authz.test.ts, lighttpd_authz.test.ts).
//
// Each server module describes the protected site it configured:
//   /protected/file.bin   a static file (FILE_BYTES) behind the authorizer
//   /protected/app/...    the interop app as a Responder behind the authorizer
//   an access log         ACCESS_LOG_FORMAT (the authorizer's variables as %{NAME}e)
// Where a server differs from what the FastCGI spec describes, its variant
// says so in `authz` / `authzWhy`, and the case records the difference.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  authorizerCalls,
  DENY_401_BODY,
  DENY_403_BODY,
  GOOD_CREDENTIAL,
  VARIABLES,
} from "./authorizer_app.ts";
import type { CaseContext, HttpCase } from "./cases.ts";
import type { HttpResponse } from "./http_client.ts";
import { patternBytes, patternSha256, sha256 } from "./pattern.ts";
import { sleep } from "./process.ts";
import type { Outcome } from "./results.ts";
import type { VariantSpec } from "./servers/types.ts";
import type { TapRequest } from "./tap.ts";

/** What the cases expect from a server's Authorizer support. */
export interface AuthzTraits {
  /** The authorizer's deny body reaches the client as sent. */
  denyBody: boolean;
  /** The Content-Type of a deny at the client (true: the authorizer's own). */
  denyContentType: true | string;
  /** Headers of a 200 answer that are not Variable-* reach the client (the spec: ignored). */
  allowHeadersLeak: boolean;
  /** The FCGI_ROLE param the authorizer gets (null: none, the role is in BEGIN_REQUEST). */
  roleParam: string | null;
  /** REMOTE_USER of the Responder behind the authorizer (null: none). */
  remoteUser: string | null;
  /** What the client gets when the authorizer throws (the library answers 500). */
  throwStatus: number;
}

/** The FastCGI specification's Authorizer (section 6.3). */
export const AUTHZ_BASELINE: AuthzTraits = {
  denyBody: true,
  denyContentType: true,
  allowHeadersLeak: false,
  roleParam: null,
  remoteUser: null,
  throwStatus: 500,
};

/** A variant of an authorizer suite. */
export interface AuthzVariantSpec extends VariantSpec {
  /** Where this server differs from AUTHZ_BASELINE ... */
  authz?: Partial<AuthzTraits>;
  /** ... and why (every key of `authz` that differs). */
  authzWhy?: Partial<Record<keyof AuthzTraits, string>>;
  /** A static response carries the variables as X-Authz-User / X-Authz-By (Apache mod_headers). */
  echoVariables?: boolean;
}

/** The static file behind the authorizer, and its bytes. */
export const PROTECTED_FILE = "/protected/file.bin";
export const FILE_SIZE = 20000;
/** The Responder behind the authorizer (the interop app's echo route). */
export const PROTECTED_ECHO = "/protected/app/echo";

/** The access log line: the request line, the status and the variables as %{NAME}e. */
export const ACCESS_LOG_FORMAT = "%r %>s USER=%{USER}e AUTHZ_BY=%{AUTHZ_BY}e";

const accessLogs = new Map<number, string>();

/** Writes htdocs/protected/file.bin (world-readable: Apache's children may be www-data). */
export function writeProtectedSite(htdocs: string): void {
  const dir = path.join(htdocs, "protected");
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, "file.bin"), patternBytes(FILE_SIZE), { mode: 0o644 });
}

/** Tells the cases where the server on `port` writes its access log (ACCESS_LOG_FORMAT). */
export function registerAccessLog(port: number, file: string): void {
  accessLogs.set(port, file);
}

/** The access log line of the request with `?t=token`, once written (bounded wait). */
async function accessLine(port: number, token: string, ms = 5000): Promise<string> {
  const file = accessLogs.get(port);
  assert.ok(file !== undefined, `no access log registered for port ${port}`);
  const pattern = new RegExp(`[?&]t=${token}[ &]`);
  const deadline = Date.now() + ms;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    const line = text.split("\n").find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) {
      throw new Error(`no access log line for t=${token} in ${ms} ms:\n${text.slice(-2000)}`);
    }
    await sleep(50);
  }
}

function traitsOf(ctx: CaseContext): AuthzTraits {
  return { ...AUTHZ_BASELINE, ...(ctx.variant as AuthzVariantSpec).authz };
}

/** "pass", or "expected-difference: why" for the keys where this server differs from the spec. */
function outcome(ctx: CaseContext, ...keys: Array<keyof AuthzTraits>): Outcome {
  const spec = ctx.variant as AuthzVariantSpec;
  const why = keys.filter((k) =>
    spec.authz?.[k] !== undefined && spec.authz[k] !== AUTHZ_BASELINE[k]
  ).map((k) => {
    const text = spec.authzWhy?.[k];
    if (text === undefined) throw new Error(`${ctx.server} ${spec.name}: no authzWhy for ${k}`);
    return text;
  });
  return why.length === 0 ? "pass" : `expected-difference: ${why.join("; ")}`;
}

/** The tap's requests for `?t=token` (authorizer = role 2, responder = role 1). */
function tapped(ctx: CaseContext, token: string): TapRequest[] {
  assert.ok(ctx.tap !== null, "these cases need the wire tap");
  return ctx.tap.find(`t=${token}`);
}

function one<T>(list: T[], what: string): T {
  assert.equal(list.length, 1, `${what}: ${list.length} calls`);
  return list[0];
}

function assertFile(r: HttpResponse): void {
  assert.equal(r.status, 200, `status ${r.status}: ${r.text().slice(0, 300)}`);
  assert.equal(r.bytes, FILE_SIZE);
  assert.equal(r.sha256, patternSha256(FILE_SIZE), "the static file's exact bytes");
}

function assertNoFile(r: HttpResponse): void {
  assert.notEqual(r.sha256, patternSha256(FILE_SIZE), "the static file was served");
  assert.ok(r.bytes < FILE_SIZE / 2, `a deny of ${r.bytes} bytes`);
}

/** Checks a deny the authorizer answered with `status`, `body` and `headers`. */
function assertDeny(
  ctx: CaseContext,
  r: HttpResponse,
  status: number,
  body: string,
  headers: Array<[string, string]>,
): void {
  const t = traitsOf(ctx);
  assert.equal(r.status, status, `status: ${r.text().slice(0, 300)}`);
  for (const [name, value] of headers) assert.equal(r.get(name), value, name);
  if (t.denyBody) assert.equal(r.text(), body, "the authorizer's body");
  else assert.notEqual(r.text(), body, "the authorizer's body reached the client");
  const type = t.denyContentType === true ? "text/plain; charset=utf-8" : t.denyContentType;
  assert.equal(r.get("content-type"), type, "content-type");
  assertNoFile(r);
}

export const AUTHORIZER_CASES: HttpCase[] = [
  {
    name: "authorizer-allow",
    title:
      "Authorizer 200 (right credential): the static file behind it is served, exact bytes; the authorizer ran once, the Responder never",
    needs: "tap",
    async run(ctx) {
      const t = ctx.token("allow");
      const r = await ctx.http({
        target: `${PROTECTED_FILE}?t=${t}`,
        headers: [["Authorization", GOOD_CREDENTIAL]],
      });
      assertFile(r);
      const call = one(authorizerCalls(t), "authorizer calls");
      assert.equal(call.role, "authorizer");
      const wire = tapped(ctx, t);
      assert.deepEqual(wire.map((w) => w.role), [2], "one FastCGI request, role AUTHORIZER");
      assert.equal(
        r.get("x-authz-extra"),
        traitsOf(ctx).allowHeadersLeak ? "not-a-variable" : null,
        "a non-Variable header of the 200 answer",
      );
      for (const name of Object.keys(VARIABLES)) {
        assert.equal(r.get(`variable-${name}`), null, "a Variable- header reached the client");
      }
      return outcome(ctx, "allowHeadersLeak");
    },
  },
  {
    name: "authorizer-deny",
    title:
      "Authorizer 401/403 (no or wrong credential): its status, headers and body reach the client; neither the file nor the Responder is served",
    needs: "tap",
    async run(ctx) {
      const none = ctx.token("deny401");
      assertDeny(
        ctx,
        await ctx.http({ target: `${PROTECTED_FILE}?t=${none}` }),
        401,
        DENY_401_BODY,
        [
          ["www-authenticate", 'Bearer realm="webfcgi"'],
          ["x-authz-deny", "401"],
        ],
      );
      const wrong = ctx.token("deny403");
      const r403 = await ctx.http({
        target: `${PROTECTED_FILE}?t=${wrong}`,
        headers: [["Authorization", "Bearer nope"]],
      });
      assertDeny(ctx, r403, 403, DENY_403_BODY, [["x-authz-deny", "403"]]);
      assert.equal(r403.get("www-authenticate"), null);
      // In front of the Responder: denied before the app sees the request as a Responder.
      const post = ctx.token("deny-post");
      const r = await ctx.http({
        method: "POST",
        target: `${PROTECTED_ECHO}?t=${post}`,
        headers: [["Content-Type", "application/octet-stream"]],
        body: patternBytes(4096),
      });
      assertDeny(ctx, r, 401, DENY_401_BODY, [["www-authenticate", 'Bearer realm="webfcgi"']]);
      for (const token of [none, wrong, post]) {
        one(authorizerCalls(token), `authorizer calls for ${token}`);
        assert.deepEqual(tapped(ctx, token).map((w) => w.role), [2], "only the authorizer ran");
      }
      return outcome(ctx, "denyBody", "denyContentType");
    },
  },
  {
    name: "authorizer-variables",
    title:
      "Variable-USER / Variable-AUTHZ_BY of a 200 reach the next stage: the static file's request env (access log %{USER}e) and the Responder's params",
    needs: "tap",
    async run(ctx) {
      const spec = ctx.variant as AuthzVariantSpec;
      const t = traitsOf(ctx);
      // A static file: the variables are request env vars (access log, mod_headers).
      const file = ctx.token("vars-file");
      const r = await ctx.http({
        target: `${PROTECTED_FILE}?t=${file}`,
        headers: [["Authorization", GOOD_CREDENTIAL]],
      });
      assertFile(r);
      if (spec.echoVariables === true) {
        assert.equal(r.get("x-authz-user"), VARIABLES.USER, "X-Authz-User from %{USER}e");
        assert.equal(r.get("x-authz-by"), VARIABLES.AUTHZ_BY, "X-Authz-By from %{AUTHZ_BY}e");
      }
      const line = await accessLine(ctx.port, file);
      assert.match(line, / 200 USER=alice AUTHZ_BY=webfcgi$/, `access log: ${line}`);
      // A denied request has none.
      const denied = ctx.token("vars-denied");
      assert.equal((await ctx.http({ target: `${PROTECTED_FILE}?t=${denied}` })).status, 401);
      assert.match(await accessLine(ctx.port, denied), / 401 USER=- AUTHZ_BY=-$/);
      // The Responder behind the authorizer gets them as params.
      const dyn = ctx.token("vars-app");
      const e = await ctx.http({
        target: `${PROTECTED_ECHO}?t=${dyn}`,
        headers: [["Authorization", GOOD_CREDENTIAL]],
      });
      assert.equal(e.status, 200, e.text().slice(0, 300));
      const echo = e.json<{ role: string; params: Record<string, string> }>();
      assert.equal(echo.role, "responder");
      for (const [name, value] of Object.entries(VARIABLES)) {
        assert.equal(echo.params[name], value, `Responder param ${name}`);
      }
      assert.equal(echo.params.REMOTE_USER, t.remoteUser ?? undefined, "REMOTE_USER");
      assert.deepEqual(tapped(ctx, dyn).map((w) => w.role), [2, 1], "authorizer, then responder");
      return outcome(ctx, "remoteUser");
    },
  },
  {
    name: "authorizer-request",
    title:
      "What the authorizer sees: role AUTHORIZER (BEGIN_REQUEST, info.role), no body even for a POST, the method, URI, query and headers; the Responder after it gets the whole body",
    needs: "tap",
    async run(ctx) {
      const t = traitsOf(ctx);
      const token = ctx.token("req");
      const size = 32768;
      const r = await ctx.http({
        method: "POST",
        target: `${PROTECTED_ECHO}/sub?t=${token}&x=%20y`,
        headers: [
          ["Authorization", GOOD_CREDENTIAL],
          ["X-Probe", "authz-probe"],
          ["Content-Type", "application/octet-stream"],
        ],
        body: patternBytes(size),
      });
      assert.equal(r.status, 200, r.text().slice(0, 300));
      const call = one(authorizerCalls(token), "authorizer calls");
      assert.equal(call.role, "authorizer");
      assert.equal(call.bodyNull, true, "the authorizer got a request body");
      assert.equal(call.method, "POST");
      const url = new URL(call.url);
      assert.equal(url.pathname, `${PROTECTED_ECHO}/sub`);
      assert.equal(url.search, `?t=${token}&x=%20y`);
      assert.equal(url.host, `127.0.0.1:${ctx.port}`);
      assert.ok(call.headers.some(([n, v]) => n === "x-probe" && v === "authz-probe"), "X-Probe");
      assert.ok(
        call.headers.some(([n, v]) => n === "authorization" && v === GOOD_CREDENTIAL),
        "Authorization",
      );
      const p = call.params;
      assert.equal(p.REQUEST_URI, `${PROTECTED_ECHO}/sub?t=${token}&x=%20y`);
      assert.equal(p.QUERY_STRING, `t=${token}&x=%20y`);
      assert.equal(p.REQUEST_METHOD, "POST");
      assert.equal(p.HTTP_X_PROBE, "authz-probe");
      assert.equal(p.FCGI_ROLE, t.roleParam ?? undefined, "FCGI_ROLE param");
      // Spec 6.3: an Authorizer gets no CONTENT_LENGTH, PATH_INFO, PATH_TRANSLATED, SCRIPT_NAME.
      for (const name of ["CONTENT_LENGTH", "PATH_INFO", "PATH_TRANSLATED", "SCRIPT_NAME"]) {
        assert.equal(p[name], undefined, `${name} sent to the authorizer`);
      }
      const wire = tapped(ctx, token);
      assert.deepEqual(wire.map((w) => w.role), [2, 1], "BEGIN_REQUEST roles");
      assert.equal(wire[0].params?.REQUEST_URI?.[0], p.REQUEST_URI);
      const echo = r.json<{ role: string; body: { bytes: number; sha256: string } | null }>();
      assert.equal(echo.role, "responder");
      assert.deepEqual(echo.body, { bytes: size, sha256: sha256(patternBytes(size)) });
      return outcome(ctx, "roleParam");
    },
  },
  {
    name: "authorizer-throws",
    title:
      "An authorizer that throws: the server denies with the library's 500 and serves nothing; the next request is authorized as usual",
    needs: "tap",
    allowLog: /handler failed/,
    async run(ctx) {
      const t = traitsOf(ctx);
      const token = ctx.token("throw");
      const r = await ctx.http({
        target: `${PROTECTED_FILE}?t=${token}&authz=throw`,
        headers: [["Authorization", GOOD_CREDENTIAL]],
      });
      assert.equal(r.status, t.throwStatus, r.text().slice(0, 300));
      if (t.denyBody) assert.equal(r.text(), "Internal Server Error\n", "the library's 500 body");
      assertNoFile(r);
      one(authorizerCalls(token), "authorizer calls");
      assert.deepEqual(tapped(ctx, token).map((w) => w.role), [2]);
      const dyn = ctx.token("throw-app");
      const d = await ctx.http({
        target: `${PROTECTED_ECHO}?t=${dyn}&authz=throw`,
        headers: [["Authorization", GOOD_CREDENTIAL]],
      });
      assert.equal(d.status, t.throwStatus, d.text().slice(0, 300));
      assert.deepEqual(tapped(ctx, dyn).map((w) => w.role), [2], "the Responder never ran");
      // Still healthy: the next requests are authorized and served.
      for (let i = 0; i < 3; i++) {
        const ok = ctx.token("after-throw");
        assertFile(
          await ctx.http({
            target: `${PROTECTED_FILE}?t=${ok}`,
            headers: [["Authorization", GOOD_CREDENTIAL]],
          }),
        );
      }
      return outcome(ctx, "throwStatus");
    },
  },
];
