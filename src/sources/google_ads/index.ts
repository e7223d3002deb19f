import { NotConfigured } from "../../pollers/not-configured";
import { unsetVariables } from "../poll-helpers";
import { defineSource } from "../define-source";
import { googleAdsAuth } from "./auth";
import { changeStatusStream } from "./change-status-stream";
import { googleAdsThrottle } from "./quota";
import { reportStream } from "./report-stream";
import { DEFAULT_REPORTS, type GaqlReport } from "./reports";

/** The API version in the URL (Google sunsets each about a year after release): GOOGLE_ADS_API_VERSION. */
export const DEFAULT_API_VERSION = "v21";

/** Configured once the developer token and customer ids are set; until then nothing is scheduled and a stray job fails saying so. */
function apiRoot(env: Record<string, unknown>): string {
  const unset = unsetVariables(env, ["GOOGLE_ADS_DEVELOPER_TOKEN", "GOOGLE_ADS_CUSTOMER_IDS"]);
  if (unset.length > 0) throw new NotConfigured(`Google Ads is not configured: set ${unset.join(", ")}`, unset);
  const version =
    typeof env.GOOGLE_ADS_API_VERSION === "string" && /^v\d+$/.test(env.GOOGLE_ADS_API_VERSION)
      ? env.GOOGLE_ADS_API_VERSION
      : DEFAULT_API_VERSION;
  return `https://googleads.googleapis.com/${version}`;
}

/**
 * Google Ads: GAQL reports as nightly restatement-window snapshots (campaign and ad-group daily
 * performance by default; pass your own `reports` for other queries) and entity changes from
 * change_status (REMOVED = delete). See docs/sources-reports.md.
 */
export function defineGoogleAdsSource(options: { name?: string; reports?: GaqlReport[] } = {}) {
  return defineSource({
    name: options.name ?? "google_ads",
    title: "Google Ads",
    baseUrl: apiRoot,
    auth: googleAdsAuth,
    // Google publishes no per-second cap (basic access: 15,000 operations a day); quota errors carry their own wait.
    rateLimit: { requests: 2, perSeconds: 1 },
    throttle: googleAdsThrottle,
    streams: [...(options.reports ?? DEFAULT_REPORTS).map(reportStream), changeStatusStream()],
  });
}

export const googleAds = defineGoogleAdsSource();
