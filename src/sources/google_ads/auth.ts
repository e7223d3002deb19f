import type { PollAuth } from "../../pollers/types";
import { AuthError, restAuth } from "../rest/auth";

const oauth = restAuth({
  type: "oauth2_refresh_token",
  tokenUrl: { env: "GOOGLE_ADS_TOKEN_URL", default: "https://oauth2.googleapis.com/token" },
  clientId: { env: "GOOGLE_ADS_CLIENT_ID" },
  clientSecret: { env: "GOOGLE_ADS_CLIENT_SECRET" },
  refreshToken: { env: "GOOGLE_ADS_REFRESH_TOKEN" },
});

/** `123-456-7890` → `1234567890`; anything else is a configuration error. */
export function customerId(value: string): string {
  const digits = value.trim().replace(/-/g, "");
  if (!/^\d{10}$/.test(digits)) throw new AuthError(`Google Ads customer id ${JSON.stringify(value.trim())} is not 10 digits`);
  return digits;
}

/**
 * OAuth access token (from the refresh token, cached and refreshed on a 401), plus the
 * `developer-token` header on every call and `login-customer-id` when the accounts are reached
 * through a manager account (GOOGLE_ADS_LOGIN_CUSTOMER_ID).
 */
export const googleAdsAuth: PollAuth = {
  refreshable: true,
  credentials: async (env, opts) => {
    const base = await oauth.credentials(env, opts);
    const developerToken = env.GOOGLE_ADS_DEVELOPER_TOKEN;
    if (typeof developerToken !== "string" || developerToken === "")
      throw new AuthError("GOOGLE_ADS_DEVELOPER_TOKEN, the developer token, is not set");
    const login =
      typeof env.GOOGLE_ADS_LOGIN_CUSTOMER_ID === "string" && env.GOOGLE_ADS_LOGIN_CUSTOMER_ID !== ""
        ? customerId(env.GOOGLE_ADS_LOGIN_CUSTOMER_ID)
        : undefined;
    return {
      headers: { ...base.headers, "developer-token": developerToken, ...(login ? { "login-customer-id": login } : {}) },
      secrets: [...base.secrets, developerToken],
    };
  },
};
