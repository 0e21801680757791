import { interopSuite } from "./support/suite.ts";
import { hiawatha } from "./support/servers/hiawatha.ts";
interopSuite(hiawatha);
