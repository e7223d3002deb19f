import { QuotaExhausted } from "../../pollers/http";
import type { QuotaSpec, ThrottleHooks } from "../../pollers/types";

/** The daily API request cap: `403 [{"errorCode":"REQUEST_LIMIT_EXCEEDED",…}]`. Retrying today cannot help. */
export const salesforceQuota: QuotaSpec = { status: 403, bodyIncludes: "REQUEST_LIMIT_EXCEEDED", resumeAfterMinutes: 60 };

/** Share of the org's daily API requests the poller may use before it stops for the org's other integrations. */
export const USAGE_CEILING = 0.95;

/** `Sforce-Limit-Info: api-usage=18/15000` → used and limit; null when absent or unreadable. */
export function apiUsage(headers: Headers): { used: number; limit: number } | null {
  const match = /api-usage=(\d+)\/(\d+)/.exec(headers.get("sforce-limit-info") ?? "");
  if (!match) return null;
  return { used: Number(match[1]), limit: Number(match[2]) };
}

/**
 * Every answer says how much of the org's rolling 24-hour request allowance is used. Past the
 * ceiling the run stops as "paused by quota" before the org hits its cap (which would also stop
 * the org's own integrations), rather than spending the last requests on a backfill.
 */
export const salesforceThrottle: ThrottleHooks = {
  usage: (headers) => {
    const usage = apiUsage(headers);
    if (usage && usage.limit > 0 && usage.used / usage.limit >= USAGE_CEILING) {
      throw new QuotaExhausted(
        `Sforce-Limit-Info says api-usage=${usage.used}/${usage.limit}, above ${USAGE_CEILING * 100}% of the daily allowance`,
      );
    }
    return 0;
  },
};
