import type { PollAuth } from "../../pollers/types";
import { envOr, whenConfigured } from "../poll-helpers";
import { restAuth } from "../rest/auth";

export const HUBSPOT_TOKEN_URL = "https://api.hubapi.com/oauth/v1/token";

const privateApp = restAuth({ type: "bearer", token: { env: "HUBSPOT_ACCESS_TOKEN" } });
const oauth = restAuth({
  type: "oauth2_refresh_token",
  tokenUrl: { env: "HUBSPOT_TOKEN_URL", default: HUBSPOT_TOKEN_URL },
  clientId: { env: "HUBSPOT_CLIENT_ID" },
  clientSecret: { env: "HUBSPOT_CLIENT_SECRET" },
  refreshToken: { env: "HUBSPOT_REFRESH_TOKEN" },
});

/**
 * A private app's access token (HUBSPOT_ACCESS_TOKEN) when set, otherwise an OAuth app's refresh
 * token (HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_REFRESH_TOKEN) exchanged for access
 * tokens that are cached until they expire and renewed once on a 401.
 */
export const hubspotAuth: PollAuth = {
  refreshable: true,
  credentials: (env, opts) =>
    (typeof env.HUBSPOT_ACCESS_TOKEN === "string" && env.HUBSPOT_ACCESS_TOKEN !== "" ? privateApp : oauth).credentials(env, opts),
};

export const hubspotBaseUrl = whenConfigured(["HUBSPOT_ACCESS_TOKEN", "HUBSPOT_REFRESH_TOKEN"], (env) =>
  envOr(env, "HUBSPOT_API_BASE", "https://api.hubapi.com"),
);
