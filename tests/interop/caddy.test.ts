import { interopSuite } from "./support/suite.ts";
import { caddy } from "./support/servers/caddy.ts";

interopSuite(caddy);
