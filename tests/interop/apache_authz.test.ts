import { interopSuite } from "./support/suite.ts";
import { AUTHORIZER_CASES } from "./support/authorizer_cases.ts";
import { authorizerApp } from "./support/authorizer_app.ts";
import { apacheAuthz } from "./support/servers/apache_authz.ts";
interopSuite(apacheAuthz, AUTHORIZER_CASES, { app: authorizerApp });
