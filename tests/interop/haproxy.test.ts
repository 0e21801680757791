import { interopSuite } from "./support/suite.ts";
import { haproxy } from "./support/servers/haproxy.ts";
interopSuite(haproxy);
