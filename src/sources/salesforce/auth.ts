import type { PollAuth } from "../../pollers/types";
import { envOr, whenConfigured } from "../poll-helpers";
import { restAuth } from "../rest/auth";

/**
 * OAuth 2.0 refresh-token flow of a connected app: SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET
 * (optional for apps that do not require it) and SALESFORCE_REFRESH_TOKEN, exchanged at
 * SALESFORCE_LOGIN_URL (default https://login.salesforce.com; https://test.salesforce.com for
 * sandboxes). Access tokens are cached until they expire and renewed once on a 401 (Salesforce
 * says INVALID_SESSION_ID when a session ends early).
 */
export const salesforceAuth: PollAuth = {
  refreshable: true,
  credentials: (env, opts) =>
    restAuth({
      type: "oauth2_refresh_token",
      tokenUrl: `${envOr(env, "SALESFORCE_LOGIN_URL", "https://login.salesforce.com").replace(/\/$/, "")}/services/oauth2/token`,
      clientId: { env: "SALESFORCE_CLIENT_ID" },
      ...(typeof env.SALESFORCE_CLIENT_SECRET === "string" && env.SALESFORCE_CLIENT_SECRET !== ""
        ? { clientSecret: { env: "SALESFORCE_CLIENT_SECRET" } }
        : {}),
      refreshToken: { env: "SALESFORCE_REFRESH_TOKEN" },
    }).credentials(env, opts),
};

/**
 * The org's instance URL (`https://<my-domain>.my.salesforce.com`, the token answer's
 * `instance_url`): every API call goes there. Polling is off until it is set.
 */
export const salesforceBaseUrl = whenConfigured(["SALESFORCE_INSTANCE_URL"], (env) =>
  String(env.SALESFORCE_INSTANCE_URL).replace(/\/$/, ""),
);

export function apiVersion(env: Record<string, unknown>): string {
  return envOr(env, "SALESFORCE_API_VERSION", "v62.0");
}
