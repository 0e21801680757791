// examples/authorizer.ts as a FastCGI Authorizer in front of a static site
// served by real lighttpd ("mode" => "authorizer"): allowed requests get
// the file, others get the authorizer's 401.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { fetchRaw, GET } from "../support/fcgi_client.ts";
import { requirePeer } from "../support/peers.ts";
import {
  freePort,
  type Running,
  type ServedExample,
  serveExample,
  spawnTracked,
  stopExample,
  waitListening,
} from "./_helpers.ts";

const lighttpd = requirePeer("lighttpd", "lighttpd");

function get(port: number, uri: string, user?: string): Promise<{
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}> {
  const headers: Record<string, string> = user === undefined
    ? {}
    : { authorization: `Basic ${Buffer.from(user).toString("base64")}` };
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: uri, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on("error", reject);
  });
}

describe(
  "examples/authorizer.ts behind lighttpd",
  { skip: lighttpd.path ? false : lighttpd.why },
  () => {
    let app: ServedExample;
    let server: Running;
    let port: number;
    const PAGE = "<h1>members only</h1>\n";

    before(async () => {
      app = await serveExample("authorizer.ts", { AUTH_USERS: "alice:correct horse,bob:hunter2" });
      const docroot = path.join(app.dir, "site");
      fs.mkdirSync(docroot);
      fs.writeFileSync(path.join(docroot, "index.html"), PAGE);
      port = await freePort();
      // The configuration of the example's header comment, in a temp dir.
      const config = `server.document-root = "${docroot}"
server.bind = "127.0.0.1"
server.port = ${port}
server.errorlog = "${app.dir}/error.log"
mimetype.assign = ( ".html" => "text/html" )
server.modules += ( "mod_fastcgi" )
fastcgi.server = ( "/" => ((
  "socket" => "${app.socket}",
  "mode" => "authorizer",
  "docroot" => "${docroot}",
  "check-local" => "disable",
)) )
`;
      const confPath = path.join(app.dir, "lighttpd.conf");
      fs.writeFileSync(confPath, config);
      server = spawnTracked(lighttpd.path!, ["-D", "-f", confPath]);
      await waitListening({ port }, server);
    });
    after(async () => {
      await server?.stop();
      if (app !== undefined) assert.equal(await stopExample(app), 0, "exits 0 on SIGTERM");
    });

    it("serves the page to a user with the right password", async () => {
      const response = await get(port, "/index.html", "alice:correct horse");
      assert.equal(response.status, 200);
      assert.equal(response.headers["content-type"], "text/html");
      assert.equal(response.body, PAGE);
      assert.equal((await get(port, "/index.html", "bob:hunter2")).body, PAGE);
    });

    it("answers the authorizer's 401 without credentials, with a wrong password or user", async () => {
      for (const user of [undefined, "alice:wrong", "mallory:hunter2", "alice", ":"]) {
        const response = await get(port, "/index.html", user);
        assert.equal(response.status, 401, `user ${user}`);
        assert.equal(
          response.headers["www-authenticate"],
          'Basic realm="members", charset="UTF-8"',
        );
        assert.equal(response.body, "Who are you?\n");
      }
    });

    it("lets lighttpd answer 404 for an allowed request to a missing file", async () => {
      const response = await get(port, "/nothing-here.html", "alice:correct horse");
      assert.equal(response.status, 404);
      assert.doesNotMatch(response.body, /Who are you/);
    });
  },
);

describe("examples/authorizer.ts on the wire", () => {
  let app: ServedExample;
  before(async () => {
    app = await serveExample("authorizer.ts", { AUTH_USERS: "alice:pw" });
  });
  after(async () => {
    if (app !== undefined) assert.equal(await stopExample(app), 0, "exits 0 on SIGTERM");
  });

  it("allows with 200 and a Variable-REMOTE_USER header for the web server", async () => {
    const reply = await fetchRaw({ path: app.socket }, {
      role: 2, // FCGI_AUTHORIZER
      params: GET("/index.html", {
        HTTP_AUTHORIZATION: `Basic ${Buffer.from("alice:pw").toString("base64")}`,
      }),
    });
    reply.conn.close();
    assert.equal(reply.cgi.status, 200);
    assert.deepEqual(reply.cgi.headers.filter(([name]) => name.startsWith("variable-")), [
      ["variable-remote-user", "alice"],
    ]);
  });

  it("refuses to act as a responder", async () => {
    const reply = await fetchRaw({ path: app.socket }, { params: GET("/index.html") });
    reply.conn.close();
    assert.equal(reply.cgi.status, 500);
    assert.match(reply.cgi.text, /FastCGI Authorizer/);
  });
});
