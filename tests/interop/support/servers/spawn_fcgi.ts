// spawn-fcgi (Debian package `spawn-fcgi`): `spawn-fcgi -n` binds the
// socket and execs the app with it on fd 0 (so the spawn-fcgi pid is the
// app's pid). AF_UNIX (-s) and AF_INET (-a -p). Queried with the raw client.
import * as path from "node:path";
import type { PeerDef, PeerVariant, RunningPeer } from "../peer_suite.ts";
import { freePort, ManagedProcess } from "../process.ts";
import type { SocketAddr } from "../tap.ts";
import { debianVersion, programPath, StartError, versionLine } from "./common.ts";

export const spawnFcgiPeer: PeerDef = {
  name: "spawn-fcgi",
  program: "spawn-fcgi",
  package: "spawn-fcgi",
  variants: [
    {
      name: "fd0-unix",
      description: "spawn-fcgi -n -s app.sock -M 0600 -- APP",
      app: "spawn-unix",
      client: "raw",
    },
    {
      name: "fd0-tcp",
      description: "spawn-fcgi -n -a 127.0.0.1 -p PORT -- APP",
      app: "spawn-tcp",
      client: "raw",
    },
  ],
  version: () =>
    debianVersion("spawn-fcgi", () => versionLine("spawn-fcgi", ["-v"], /spawn-fcgi v([\d.]+)/)),
  async start(variant: PeerVariant, { dir, spawnCommand }): Promise<RunningPeer> {
    let addr: SocketAddr;
    let bind: string[];
    if (variant.app === "spawn-unix") {
      const socket = path.join(dir, "app.sock");
      addr = { path: socket };
      bind = ["-s", socket, "-M", "0600"];
    } else {
      const port = await freePort();
      addr = { port, host: "127.0.0.1" };
      bind = ["-a", "127.0.0.1", "-p", String(port)];
    }
    const proc = new ManagedProcess({
      name: `spawn-fcgi ${variant.name}`,
      argv: [programPath("spawn-fcgi"), "-n", ...bind, "--", ...spawnCommand],
      cwd: dir,
    });
    try {
      // spawn-fcgi binds before exec; the app says when it serves fd 0.
      await proc.waitForOutput(/listening \{/, 20000);
    } catch (error) {
      await proc.stop();
      throw new StartError((error as Error).message, proc.log());
    }
    return { addr, stop: () => proc.stop(), log: () => proc.log() };
  },
};
