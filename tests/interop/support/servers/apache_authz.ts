// Apache httpd 2.4 mod_authnz_fcgi (Debian package `apache2`) with webfcgi as
// the FastCGI Authorizer, in the generic single-phase mode
// (AuthnzFcgiCheckAuthnProvider), in front of a static file and of the
// interop app as a mod_proxy_fcgi Responder. mod_authnz_fcgi reaches its
// authorizer over TCP only (fcgi://host:port/).
import * as path from "node:path";
import {
  ACCESS_LOG_FORMAT,
  type AuthzVariantSpec,
  registerAccessLog,
  writeProtectedSite,
} from "../authorizer_cases.ts";
import { freePort } from "../process.ts";
import { apacheVersion, startApache, writeApacheConf } from "./apache_conf.ts";
import type { RunningServer, StartOptions, WebServer } from "./types.ts";

const VARIANTS: AuthzVariantSpec[] = [{
  name: "authnz",
  description:
    'AuthnzFcgiDefineProvider authnz + AuthnzFcgiCheckAuthnProvider (Authoritative On, RequireBasicAuth Off, UserExpr "%{reqenv:USER}"), Require <provider>, CGIPassAuth On, Header set X-Authz-User "%{USER}e"; a static file and ProxyPass fcgi:// behind it',
  app: "tcp",
  echoVariables: true,
  authz: {
    denyContentType: "text/html; charset=iso-8859-1",
    allowHeadersLeak: true,
    roleParam: "AUTHORIZER",
    remoteUser: "alice",
  },
  authzWhy: {
    denyContentType:
      "the deny body goes out as an Apache custom error response (ap_custom_response), typed text/html; charset=iso-8859-1; the authorizer's own headers (WWW-Authenticate, ...) do reach the client",
    allowHeadersLeak:
      "on a 200, mod_authnz_fcgi moves only the Variable-* headers into the request env; the others stay in the response headers and reach the client with the file",
    roleParam:
      "Apache also sends the role as params: FCGI_ROLE=AUTHORIZER and FCGI_APACHE_ROLE=AUTHENTICATOR",
    remoteUser:
      'Require needs an Apache user: UserExpr "%{reqenv:USER}" makes the Variable-USER of the authorizer that user, which the Responder gets as REMOTE_USER',
  },
}];

/** The <Location> and provider directives that the report shows. */
function directives(dir: string, app: { host?: string; port: number }): string {
  const backend = `fcgi://${app.host ?? "127.0.0.1"}:${app.port}/`;
  return `LogFormat "${ACCESS_LOG_FORMAT.replaceAll('"', '\\"')}" authz
CustomLog ${dir}/access.log authz
AuthnzFcgiDefineProvider authnz WebfcgiAuthz ${backend}
ProxyPass "/protected/app/" "${backend}"
<Location "/protected/">
  AuthnzFcgiCheckAuthnProvider WebfcgiAuthz Authoritative On RequireBasicAuth Off UserExpr "%{reqenv:USER}"
  Require WebfcgiAuthz
  CGIPassAuth On
  Header always set X-Authz-User "%{USER}e" env=USER
  Header always set X-Authz-By "%{AUTHZ_BY}e" env=AUTHZ_BY
</Location>
`;
}

export const apacheAuthz: WebServer = {
  name: "apache-authz",
  program: "apache2",
  package: "apache2",
  variants: VARIANTS,
  version: apacheVersion,
  async start(variant: string, options: StartOptions): Promise<RunningServer> {
    const { dir, appAddr } = options;
    if (appAddr === undefined || "path" in appAddr) {
      throw new Error("mod_authnz_fcgi needs the app on TCP");
    }
    const port = await freePort();
    const confPath = writeApacheConf({
      dir,
      port,
      modules: ["authn_core", "authnz_fcgi", "headers", "proxy", "proxy_fcgi"],
      directives: directives(dir, appAddr),
    });
    writeProtectedSite(path.join(dir, "htdocs"));
    registerAccessLog(port, path.join(dir, "access.log"));
    return await startApache({ name: "apache-authz", variant, dir, port, confPath });
  },
};
