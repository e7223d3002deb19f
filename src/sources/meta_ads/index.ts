import { NotConfigured } from "../../pollers/not-configured";
import { unsetVariables } from "../poll-helpers";
import { defineSource } from "../define-source";
import { restAuth } from "../rest/auth";
import { DEFAULT_INSIGHTS, type InsightsReport } from "./insights";
import { insightsStream } from "./insights-stream";
import { metaAdsThrottle } from "./usage";

/** Graph API version in the URL (META_ADS_API_VERSION); each is supported for about two years. */
export const DEFAULT_GRAPH_VERSION = "v24.0";

/** Configured once the token and ad accounts are set; until then nothing is scheduled and a stray job fails saying so. */
function graphRoot(env: Record<string, unknown>): string {
  const unset = unsetVariables(env, ["META_ADS_ACCESS_TOKEN", "META_ADS_ACCOUNT_IDS"]);
  if (unset.length > 0) throw new NotConfigured(`Meta Ads is not configured: set ${unset.join(", ")}`, unset);
  const v =
    typeof env.META_ADS_API_VERSION === "string" && /^v\d+\.\d+$/.test(env.META_ADS_API_VERSION)
      ? env.META_ADS_API_VERSION
      : DEFAULT_GRAPH_VERSION;
  return `https://graph.facebook.com/${v}`;
}

/**
 * Meta Ads (Marketing API) polling: asynchronous insights reports over a trailing attribution
 * window. A source of its own, apart from `meta` (the Graph webhook, verified with the app
 * secret): it authenticates with a system-user token (META_ADS_ACCESS_TOKEN), has its own rate
 * limits, schedule and cursor rows, and lands under raw/source=meta_ads. See docs/sources-reports.md.
 */
export function defineMetaAdsSource(options: { name?: string; report?: InsightsReport } = {}) {
  return defineSource({
    name: options.name ?? "meta_ads",
    title: "Meta Ads (Marketing API insights)",
    baseUrl: graphRoot,
    auth: restAuth({ type: "bearer", token: { env: "META_ADS_ACCESS_TOKEN" } }),
    // Meta's limits are usage scores, not a fixed rate: a modest spacing here, the usage headers do the rest.
    rateLimit: { requests: 2, perSeconds: 1 },
    throttle: metaAdsThrottle,
    streams: [insightsStream(options.report ?? DEFAULT_INSIGHTS)],
  });
}

export const metaAds = defineMetaAdsSource();
