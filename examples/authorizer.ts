/**
 * A FastCGI Authorizer: the web server asks it "may this request go on?"
 * before serving anything, here a static site. The authorizer sees the
 * request's params (never its body) and answers 200 to let the request
 * through, or any other response, which the web server sends to the client
 * instead of the page.
 *
 * Behind lighttpd (mod_fastcgi), in front of a plain document root:
 *
 *     server.modules += ( "mod_fastcgi" )
 *     server.document-root = "/srv/site"
 *     mimetype.assign = ( ".html" => "text/html" )
 *     fastcgi.server = ( "/" => ((
 *       "socket" => "/run/site-auth.sock",
 *       "mode" => "authorizer",           # ask the app, then serve the file
 *       "docroot" => "/srv/site",         # where an allowed request is served from
 *       "check-local" => "disable",
 *     )) )
 *
 *     AUTH_USERS='alice:correct horse,bob:hunter2' \
 *       webfcgi serve examples/authorizer.ts --listen unix:/run/site-auth.sock
 *
 * Users come from AUTH_USERS (`name:password`, comma-separated) to keep the
 * example short; a real one would check a password hash or a session.
 * `Variable-*` headers of an allowing response become params of the later
 * request handling (lighttpd passes them on as environment variables, e.g.
 * to a CGI or FastCGI responder behind the same URL).
 */
import process from "node:process";
import type { FastCGIInfo } from "../mod.ts"; // in your app: "@webfcgi/webfcgi"

const REALM = "members";

/** name -> password, from AUTH_USERS. */
const users = new Map(
  (process.env.AUTH_USERS ?? "").split(",").filter((entry) => entry.includes(":")).map(
    (entry) => {
      const at = entry.indexOf(":");
      return [entry.slice(0, at), entry.slice(at + 1)] as const;
    },
  ),
);

/** The user named by an `Authorization: Basic ...` header, if the password matches. */
function check(authorization: string | null): string | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? "");
  if (match === null) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(match[1]), (c) => c.charCodeAt(0)),
    );
  } catch {
    return null; // not base64, or not UTF-8
  }
  const at = decoded.indexOf(":");
  const name = decoded.slice(0, at);
  return at > 0 && users.has(name) && users.get(name) === decoded.slice(at + 1) ? name : null;
}

function fetch(request: Request, info: FastCGIInfo): Response {
  // Only the web server's authorizer calls make sense here.
  if (info.role !== "authorizer") {
    return new Response("This app is a FastCGI Authorizer; configure it as one.\n", {
      status: 500,
    });
  }
  const user = check(request.headers.get("authorization"));
  if (user === null) {
    return new Response("Who are you?\n", {
      status: 401,
      headers: { "www-authenticate": `Basic realm="${REALM}", charset="UTF-8"` },
    });
  }
  // 200 lets the web server go on and serve the file; the body is not sent.
  return new Response(null, { status: 200, headers: { "variable-remote-user": user } });
}

export default { fetch };
