import { peerSuite } from "./support/peer_suite.ts";
import { spawnFcgiPeer } from "./support/servers/spawn_fcgi.ts";

peerSuite(spawnFcgiPeer);
