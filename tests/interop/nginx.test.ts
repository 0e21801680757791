import { interopSuite } from "./support/suite.ts";
import { nginx } from "./support/servers/nginx.ts";

interopSuite(nginx);
