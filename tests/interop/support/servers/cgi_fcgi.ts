// libfcgi's cgi-fcgi (Debian package `libfcgi-bin`) as a client: each case
// runs `cgi-fcgi -bind -connect ADDR` with a CGI environment (and nothing
// else) against the in-process app, over TCP and over a Unix socket.
import type { PeerDef } from "../peer_suite.ts";
import { debianVersion } from "./common.ts";

export const cgiFcgiPeer: PeerDef = {
  name: "cgi-fcgi",
  program: "cgi-fcgi",
  package: "libfcgi-bin",
  variants: [
    {
      name: "tcp",
      description: "cgi-fcgi -bind -connect 127.0.0.1:PORT",
      app: "tcp",
      client: "cgi-fcgi",
    },
    {
      name: "unix",
      description: "cgi-fcgi -bind -connect /path/app.sock",
      app: "unix",
      client: "cgi-fcgi",
    },
  ],
  version: () => debianVersion("libfcgi-bin", () => "libfcgi (version unknown)"),
};
