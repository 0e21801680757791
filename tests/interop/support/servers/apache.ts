// Apache httpd 2.4 (Debian packages `apache2`, `libapache2-mod-fcgid`):
// "proxy-tcp" = mod_proxy_fcgi ProxyPass to fcgi://127.0.0.1:PORT/ with its
// defaults, "proxy-unix" = the same over a Unix socket, "proxy-reuse" =
// enablereuse=on flushpackets=on + AllowEncodedSlashes NoDecode + CGIPassAuth
// On (pooled FastCGI connections, streamed responses, %2F and Authorization
// passed), "fcgid-spawn" = mod_fcgid starts the app with its listening
// socket on fd 0. Where they differ from BASELINE is observed on 2.4.71.
import process from "node:process";
import { freePort } from "../process.ts";
import type { SocketAddr } from "../tap.ts";
import {
  apacheVersion,
  apacheWritableDir,
  shareWithApache,
  startApache,
  writeApacheConf,
} from "./apache_conf.ts";
import { debianVersion } from "./common.ts";
import type { RunningServer, StartOptions, Traits, WebServer } from "./types.ts";

// What every variant shares.
const COMMON: Partial<Traits> = {
  hostWithoutHeader: "127.0.0.1",
  cookie: "k1=v1, k2=v2",
};
const COMMON_WHY = {
  hostWithoutHeader:
    "without a Host header Apache sends no HTTP_HOST, and SERVER_PORT comes from ServerName (127.0.0.1, no port: 80), not from the port it listens on",
  cookie: 'Apache joins repeated request headers with ", ", the two Cookie headers too',
};
const SLASH_404 = "AllowEncodedSlashes Off (the default) answers 404 for %2F in the path itself";
const NO_AUTH =
  'mod_proxy_fcgi keeps Authorization from the app unless CGIPassAuth On (in a <Location>) or SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1';
const CHUNKED =
  "mod_proxy_fcgi streams a chunked upload without CONTENT_LENGTH (SetEnv proxy-sendcl 1 would spool it and send the length)";
const BUFFERED =
  "without flushpackets=on mod_proxy_fcgi buffers the response: the events arrive together at the end (X-Accel-Buffering means nothing to Apache)";
const NEW_CONN = "no enablereuse=on: one FastCGI connection per request (FCGI_KEEP_CONN=0)";

function fcgiUrl(addr: SocketAddr): string {
  return "path" in addr
    ? `unix:${addr.path}|fcgi://localhost/`
    : `fcgi://${addr.host ?? "127.0.0.1"}:${addr.port}/`;
}

/** mod_proxy_fcgi: ProxyPass everything to the app. */
function proxyDirectives(addr: SocketAddr, tuned: boolean): string {
  if (!tuned) return `ProxyPass "/" "${fcgiUrl(addr)}"`;
  return `ProxyPass "/" "${fcgiUrl(addr)}" enablereuse=on flushpackets=on
AllowEncodedSlashes NoDecode
<Location "/">
  CGIPassAuth On
</Location>`;
}

/**
 * mod_fcgid: every URL goes to the app, which mod_fcgid spawns with its
 * socket on fd 0. mod_fcgid sends one request at a time to a process and
 * starts more under load (up to 8 here; with 1, some of 100 concurrent
 * clients starve past 40 s in its 1 s retry loop), so the app shares abort
 * records through files: the abort cases' query may reach another process.
 * FcgidOutputBufferSize 0: with the default 64 KB, responses are buffered and
 * a client disconnect is noticed only after 64 KB more output (seen: ~19 s
 * of a slow stream), so the abort cases could not finish in time.
 */
function fcgidDirectives(dir: string, spawnCommand: string[]): string {
  if (spawnCommand.some((arg) => /[\s"'\\]/.test(arg))) {
    throw new Error(`FcgidWrapper cannot quote ${JSON.stringify(spawnCommand)}`);
  }
  const ipc = apacheWritableDir(dir, "fcgid");
  const home = apacheWritableDir(dir, "home");
  return `FcgidIPCDir ${ipc}
FcgidProcessTableFile ${ipc}/shm
FcgidMaxRequestLen 104857600
FcgidOutputBufferSize 0
FcgidMaxProcessesPerClass 8
FcgidInitialEnv PATH ${process.env.PATH ?? "/usr/bin:/bin"}
FcgidInitialEnv HOME ${home}
FcgidInitialEnv DENO_DIR ${home}/deno
FcgidInitialEnv DENO_NO_UPDATE_CHECK 1
FcgidInitialEnv NO_COLOR 1
FcgidInitialEnv WEBFCGI_APP_ABORTS_DIR ${apacheWritableDir(dir, "aborts")}
<Location "/">
  SetHandler fcgid-script
  FcgidWrapper "${spawnCommand.join(" ")}" virtual
  Options +ExecCGI
  CGIPassAuth On
</Location>`;
}

export const apache: WebServer = {
  name: "apache",
  program: "apache2",
  package: "apache2",
  variants: [
    {
      name: "proxy-tcp",
      description: 'mod_proxy_fcgi, ProxyPass "/" "fcgi://127.0.0.1:PORT/" with its defaults',
      app: "tcp",
      expect: {
        ...COMMON,
        encodedSlash: 404,
        authorization: false,
        chunkedUploadLength: false,
        streams: false,
        streamsWithAccelNo: false,
        keepConn: false,
      },
      why: {
        ...COMMON_WHY,
        encodedSlash: SLASH_404,
        authorization: NO_AUTH,
        chunkedUploadLength: CHUNKED,
        streams: BUFFERED,
        streamsWithAccelNo: BUFFERED,
        keepConn: NEW_CONN,
      },
    },
    {
      name: "proxy-unix",
      description:
        'mod_proxy_fcgi over a Unix socket, ProxyPass "/" "unix:/path/app.sock|fcgi://localhost/", defaults',
      app: "unix",
      expect: {
        ...COMMON,
        encodedSlash: 404,
        authorization: false,
        chunkedUploadLength: false,
        streams: false,
        streamsWithAccelNo: false,
        keepConn: false,
      },
      why: {
        ...COMMON_WHY,
        encodedSlash: SLASH_404,
        authorization: NO_AUTH,
        chunkedUploadLength: CHUNKED,
        streams: BUFFERED,
        streamsWithAccelNo: BUFFERED,
        keepConn: NEW_CONN,
      },
    },
    {
      name: "proxy-reuse",
      description:
        'mod_proxy_fcgi, ProxyPass "/" "fcgi://127.0.0.1:PORT/" enablereuse=on flushpackets=on, AllowEncodedSlashes NoDecode, CGIPassAuth On in <Location "/">',
      app: "tcp",
      expect: { ...COMMON, chunkedUploadLength: false },
      why: { ...COMMON_WHY, chunkedUploadLength: CHUNKED },
    },
    {
      name: "fcgid-spawn",
      description:
        'mod_fcgid spawns the app (socket on fd 0): SetHandler fcgid-script + FcgidWrapper "APP" virtual + CGIPassAuth On in <Location "/">, FcgidOutputBufferSize 0, FcgidMaxRequestLen 100 MB, FcgidMaxProcessesPerClass 8, FcgidInitialEnv PATH/HOME',
      app: "spawn",
      expect: { ...COMMON, encodedSlash: 404, streamsRequestBody: false },
      why: {
        ...COMMON_WHY,
        encodedSlash: SLASH_404,
        streamsRequestBody:
          "mod_fcgid reads the whole request body (to a temp file past FcgidMaxRequestInMem) before it contacts the app",
      },
    },
  ],
  version: () => {
    const fcgid = debianVersion("libapache2-mod-fcgid", () => "");
    return fcgid === "" ? apacheVersion() : `${apacheVersion()}, ${fcgid}`;
  },
  async start(variant: string, options: StartOptions): Promise<RunningServer> {
    const { dir, appAddr, spawnCommand } = options;
    const port = await freePort();
    let directives: string;
    let modules: string[];
    if (variant === "fcgid-spawn") {
      if (spawnCommand === undefined) throw new Error("apache fcgid-spawn needs spawnCommand");
      directives = fcgidDirectives(dir, spawnCommand);
      modules = ["fcgid"];
    } else {
      if (appAddr === undefined) throw new Error("apache needs appAddr");
      // As root httpd's children (www-data) connect: they must be able to.
      if ("path" in appAddr) shareWithApache(appAddr.path);
      directives = proxyDirectives(appAddr, variant === "proxy-reuse");
      modules = ["proxy", "proxy_fcgi"];
    }
    const confPath = writeApacheConf({ dir, port, modules, directives });
    return await startApache({ name: "apache", variant, dir, port, confPath });
  },
};
