// lighttpd 1.4 mod_fastcgi "mode" => "authorizer" (Debian package `lighttpd`)
// with webfcgi as the FastCGI Authorizer in front of a static file and of the
// interop app as a Responder ("/protected/app"): "tcp" = host + port, "unix" =
// a Unix socket. lighttpd puts the Variable-* of a 200 into the request env,
// which its access log (%{NAME}e) and the FastCGI Responder after it see.
import * as path from "node:path";
import {
  ACCESS_LOG_FORMAT,
  type AuthzVariantSpec,
  registerAccessLog,
  writeProtectedSite,
} from "../authorizer_cases.ts";
import { freePort } from "../process.ts";
import type { SocketAddr } from "../tap.ts";
import { lighttpdBaseConfig, runLighttpd } from "./lighttpd.ts";
import { debianVersion, versionLine } from "./common.ts";
import type { RunningServer, StartOptions, WebServer } from "./types.ts";

const VARIANTS: AuthzVariantSpec[] = [
  {
    name: "tcp",
    description:
      'fastcgi.server "/protected/" => host + port, "mode" => "authorizer", "check-local" => "disable"; "/protected/app" => the same app as Responder',
    app: "tcp",
  },
  {
    name: "unix",
    description: 'as tcp over a Unix socket ("socket" => path)',
    app: "unix",
  },
];

function backend(addr: SocketAddr): string {
  return "path" in addr
    ? `"socket" => "${addr.path}"`
    : `"host" => "${addr.host ?? "127.0.0.1"}", "port" => ${addr.port}`;
}

/** The part of lighttpd.conf that the report shows. */
function authorizerConfig(dir: string, addr: SocketAddr): string {
  // A piped access log is written at once; a file is flushed only every few seconds.
  return `server.modules += ( "mod_accesslog" )
accesslog.filename = "|/bin/cat >> ${dir}/access.log"
accesslog.format = "${ACCESS_LOG_FORMAT}"
fastcgi.server = (
  "/protected/" => ((
    ${backend(addr)}, "mode" => "authorizer", "check-local" => "disable"
  )),
  "/protected/app" => ((
    ${backend(addr)}, "check-local" => "disable"
  )),
)
`;
}

export const lighttpdAuthz: WebServer = {
  name: "lighttpd-authz",
  program: "lighttpd",
  package: "lighttpd",
  variants: VARIANTS,
  version: () =>
    debianVersion("lighttpd", () => versionLine("lighttpd", ["-v"], /lighttpd\/([\d.]+)/)),
  async start(variant: string, options: StartOptions): Promise<RunningServer> {
    const { dir, appAddr } = options;
    if (appAddr === undefined) throw new Error("lighttpd-authz needs appAddr");
    const port = await freePort();
    const config = lighttpdBaseConfig(dir, port) + authorizerConfig(dir, appAddr);
    writeProtectedSite(path.join(dir, "htdocs"));
    registerAccessLog(port, path.join(dir, "access.log"));
    return await runLighttpd("lighttpd-authz", variant, dir, port, config);
  },
};
