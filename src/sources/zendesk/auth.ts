import type { PollAuth } from "../../pollers/types";
import { whenConfigured } from "../poll-helpers";
import { AuthError } from "../rest/auth";

function set(env: Record<string, unknown>, name: string): string | undefined {
  const v = env[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * An OAuth access token (ZENDESK_OAUTH_TOKEN) when set, otherwise an API token:
 * `Basic base64("{ZENDESK_EMAIL}/token:{ZENDESK_API_TOKEN}")`.
 */
export const zendeskAuth: PollAuth = {
  refreshable: false,
  credentials: async (env) => {
    const oauth = set(env, "ZENDESK_OAUTH_TOKEN");
    if (oauth) return { headers: { authorization: `Bearer ${oauth}` }, secrets: [oauth] };
    const email = set(env, "ZENDESK_EMAIL");
    const token = set(env, "ZENDESK_API_TOKEN");
    if (!email || !token)
      throw new AuthError("set ZENDESK_OAUTH_TOKEN, or ZENDESK_EMAIL and ZENDESK_API_TOKEN (the source needs them for auth)");
    const encoded = btoa(`${email}/token:${token}`);
    return { headers: { authorization: `Basic ${encoded}` }, secrets: [token, encoded] };
  },
};

/** `https://{ZENDESK_SUBDOMAIN}.zendesk.com` (ZENDESK_API_BASE overrides it); polling is off until a subdomain is set. */
export const zendeskBaseUrl = whenConfigured(["ZENDESK_SUBDOMAIN", "ZENDESK_API_BASE"], (env) => {
  const override = set(env, "ZENDESK_API_BASE");
  if (override) return override;
  const sub = String(env.ZENDESK_SUBDOMAIN);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(sub))
    throw new AuthError(`ZENDESK_SUBDOMAIN must be a bare subdomain (acme for acme.zendesk.com)`);
  return `https://${sub}.zendesk.com`;
});
