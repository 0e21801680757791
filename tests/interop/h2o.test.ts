import { interopSuite } from "./support/suite.ts";
import { h2o } from "./support/servers/h2o.ts";

interopSuite(h2o);
