import { interopSuite } from "./support/suite.ts";
import { apache } from "./support/servers/apache.ts";
interopSuite(apache);
