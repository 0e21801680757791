import { interopSuite } from "./support/suite.ts";
import { AUTHORIZER_CASES } from "./support/authorizer_cases.ts";
import { authorizerApp } from "./support/authorizer_app.ts";
import { lighttpdAuthz } from "./support/servers/lighttpd_authz.ts";
interopSuite(lighttpdAuthz, AUTHORIZER_CASES, { app: authorizerApp });
