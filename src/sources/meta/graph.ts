import { NotConfigured } from "../../pollers/not-configured";
import { restAuth } from "../rest/auth";
import { unsetVariables } from "../poll-helpers";

/** Graph API version in the URL (META_API_VERSION); each is supported for about two years. */
export const META_GRAPH_VERSION = "v24.0";

/** The lead forms whose leads are listed: META_LEAD_FORM_IDS, comma-separated numeric form ids. */
export const LEAD_FORMS = "META_LEAD_FORM_IDS";
export const META_TOKEN = "META_ACCESS_TOKEN";

/** The form ids configured, in order, without repeats; a malformed one throws (a run fails naming it). */
export function leadFormIds(env: Record<string, unknown> | undefined): string[] {
  const value = env?.[LEAD_FORMS];
  const ids =
    typeof value === "string"
      ? value
          .split(",")
          .map((id) => id.trim())
          .filter((id) => id !== "")
      : [];
  const bad = ids.find((id) => !/^\d{1,20}$/.test(id));
  if (bad !== undefined) throw new Error(`${LEAD_FORMS}: ${JSON.stringify(bad.slice(0, 40))} is not a lead form id (digits)`);
  return [...new Set(ids)];
}

/** https://graph.facebook.com/<version>, once a token (leads_retrieval) and the lead forms are set. */
export function metaGraphRoot(env: Record<string, unknown>): string {
  const unset = unsetVariables(env, [META_TOKEN, LEAD_FORMS]);
  if (unset.length > 0) throw new NotConfigured(`Meta lead listing is not configured: set ${unset.join(", ")}`, unset);
  const v =
    typeof env.META_API_VERSION === "string" && /^v\d+\.\d+$/.test(env.META_API_VERSION) ? env.META_API_VERSION : META_GRAPH_VERSION;
  return `https://graph.facebook.com/${v}`;
}

/** A Page access token with leads_retrieval, sent as `Authorization: Bearer` (never in a URL). */
export const metaAuth = restAuth({ type: "bearer", token: { env: META_TOKEN } });
