import { peerSuite } from "./support/peer_suite.ts";
import { cgiFcgiPeer } from "./support/servers/cgi_fcgi.ts";

peerSuite(cgiFcgiPeer);
