// The app of the authorizer suites (apache_authz, lighttpd_authz): a FastCGI
// Authorizer in front of the interop app, which answers the Responder
// requests the web server sends after a 200. Every Authorizer call is
// recorded by its `t` query token, so the cases can assert in-process what
// the handler saw (role, body, URL, headers, params).
//
//   Authorization: Bearer letmein  200 + Variable-USER: alice, Variable-AUTHZ_BY: webfcgi
//                                  (+ X-Authz-Extra, a header that is not a variable)
//   no Authorization               401 + WWW-Authenticate: Bearer realm="webfcgi" + a text body
//   any other Authorization        403 + a text body
//   ?authz=throw                   the handler throws
import type { FastCGIHandler, FastCGIInfo } from "../../../mod.ts";
import { type AppMeta, interopApp } from "./app.ts";

/** The credential the authorizer accepts. */
export const GOOD_CREDENTIAL = "Bearer letmein";

/** The bodies of the two deny answers. */
export const DENY_401_BODY = "authentication required by the webfcgi authorizer\n";
export const DENY_403_BODY = "denied by the webfcgi authorizer\n";

/** The Variable- headers of the allow answer, as the next stage sees them (name without prefix). */
export const VARIABLES: Readonly<Record<string, string>> = { USER: "alice", AUTHZ_BY: "webfcgi" };

/** What one Authorizer call saw. */
export interface AuthorizerCall {
  role: FastCGIInfo["role"];
  method: string;
  url: string;
  /** request.body was null (an Authorizer never gets the request body). */
  bodyNull: boolean;
  headers: Array<[string, string]>;
  params: Record<string, string>;
}

const calls = new Map<string, AuthorizerCall[]>();

/** The Authorizer calls made for requests carrying `?t=token`, in order. */
export function authorizerCalls(token: string): AuthorizerCall[] {
  return calls.get(token) ?? [];
}

function answer(request: Request): Response {
  if (new URL(request.url).searchParams.get("authz") === "throw") {
    throw new Error("interop: authorizer thrown on purpose");
  }
  const auth = request.headers.get("authorization");
  if (auth === GOOD_CREDENTIAL) {
    const headers = new Headers({ "X-Authz-Extra": "not-a-variable" });
    for (const [name, value] of Object.entries(VARIABLES)) headers.set(`Variable-${name}`, value);
    return new Response(null, { status: 200, headers });
  }
  if (auth === null) {
    return new Response(DENY_401_BODY, {
      status: 401,
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "www-authenticate": 'Bearer realm="webfcgi"',
        "x-authz-deny": "401",
      },
    });
  }
  return new Response(DENY_403_BODY, {
    status: 403,
    headers: { "content-type": "text/plain; charset=utf-8", "x-authz-deny": "403" },
  });
}

/** The handler: Authorizer requests get `answer`, everything else the interop app. */
export function authorizerApp(meta: AppMeta): FastCGIHandler {
  const app = interopApp(meta);
  return (request, info) => {
    if (info.role !== "authorizer") return app(request, info);
    const token = new URL(request.url).searchParams.get("t") ?? "";
    const list = calls.get(token) ?? [];
    list.push({
      role: info.role,
      method: request.method,
      url: request.url,
      bodyNull: request.body === null,
      headers: [...request.headers],
      params: { ...info.params },
    });
    calls.set(token, list);
    return answer(request);
  };
}
