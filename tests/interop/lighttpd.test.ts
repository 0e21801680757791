import { interopSuite } from "./support/suite.ts";
import { lighttpd } from "./support/servers/lighttpd.ts";

interopSuite(lighttpd);
