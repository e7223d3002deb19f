import type { FailedAnswer, ThrottleHooks } from "../../pollers/types";

/** Usage (percent of the cap) above which the source slows down, and the wait at 100%. */
const SLOW_FROM_PCT = 75;
const WAIT_AT_FULL_MS = 5 * 60_000;
/** Error codes Meta uses for rate limiting (app, user, account, business use case). */
const THROTTLE_CODES = new Set([4, 17, 32, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014]);
const DEFAULT_THROTTLE_WAIT_MS = 60_000;

function parse(value: string | null): unknown {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/**
 * The highest usage percentage and the longest "regain access" wait (ms) in Meta's usage headers:
 * X-Business-Use-Case-Usage (`{business: [{call_count, total_cputime, total_time,
 * estimated_time_to_regain_access (minutes)}]}`), X-Ad-Account-Usage (`acc_id_util_pct`),
 * X-FB-Ads-Insights-Throttle (`app_id_util_pct`, `acc_id_util_pct`) and X-App-Usage.
 */
export function usageOf(headers: Headers): { pct: number; regainMs: number } {
  let pct = 0;
  let regainMs = 0;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const buc = parse(headers.get("x-business-use-case-usage"));
  if (buc && typeof buc === "object") {
    for (const entries of Object.values(buc as Record<string, unknown>)) {
      for (const e of Array.isArray(entries) ? entries : []) {
        const u = e as Record<string, unknown>;
        pct = Math.max(pct, num(u.call_count), num(u.total_cputime), num(u.total_time));
        regainMs = Math.max(regainMs, num(u.estimated_time_to_regain_access) * 60_000);
      }
    }
  }
  const account = parse(headers.get("x-ad-account-usage")) as Record<string, unknown> | undefined;
  if (account) {
    pct = Math.max(pct, num(account.acc_id_util_pct));
    regainMs = Math.max(regainMs, num(account.reset_time_duration) * 1000);
  }
  const insights = parse(headers.get("x-fb-ads-insights-throttle")) as Record<string, unknown> | undefined;
  if (insights) pct = Math.max(pct, num(insights.app_id_util_pct), num(insights.acc_id_util_pct));
  const app = parse(headers.get("x-app-usage")) as Record<string, unknown> | undefined;
  if (app) pct = Math.max(pct, num(app.call_count), num(app.total_cputime), num(app.total_time));
  return { pct, regainMs };
}

/** The wait a usage level asks for: nothing below 75%, then rising to 5 minutes at 100%; at least any regain time. */
export function usageWaitMs(headers: Headers): number {
  const { pct, regainMs } = usageOf(headers);
  const ramp = pct < SLOW_FROM_PCT ? 0 : Math.min(1, (pct - SLOW_FROM_PCT) / (100 - SLOW_FROM_PCT)) * WAIT_AT_FULL_MS;
  return Math.max(ramp, regainMs);
}

/** A Graph error whose code is a rate limit: `{"error":{"code":17,"error_subcode":…,"message":…}}`. */
function throttleCode(answer: FailedAnswer): number | undefined {
  const body = parse(answer.text) as { error?: { code?: unknown } } | undefined;
  const code = body?.error?.code;
  return typeof code === "number" && THROTTLE_CODES.has(code) ? code : undefined;
}

/**
 * Meta's throttling: usage headers on every answer slow the source before it is throttled (the
 * rate gate pauses for the usage wait, so later requests are spaced or the run is deferred), and
 * rate-limit error codes (sent as 400/403, not 429) are retried after the regain time Meta names.
 */
export const metaAdsThrottle: ThrottleHooks = {
  usage: (headers) => usageWaitMs(headers),
  classify: (answer) => {
    const code = throttleCode(answer);
    if (code === undefined) return undefined;
    const { regainMs } = usageOf(answer.headers);
    return { reason: `Graph rate limit (code ${code})`, waitMs: regainMs > 0 ? regainMs : DEFAULT_THROTTLE_WAIT_MS };
  },
};
