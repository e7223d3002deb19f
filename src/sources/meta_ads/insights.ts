import { PollFailure } from "../../pollers/http";

/** What an insights report asks for; the defaults are ad-level daily performance. */
export interface InsightsReport {
  name: string;
  level: "ad" | "adset" | "campaign" | "account";
  fields: string[];
  /** Attribution windows to report under (Meta's default is 7-day click, 1-day view). */
  attributionWindows: string[];
}

export const DEFAULT_INSIGHTS: InsightsReport = {
  name: "ads_insights",
  level: "ad",
  fields: [
    "account_id",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
    "date_start",
    "date_stop",
    "impressions",
    "reach",
    "frequency",
    "clicks",
    "inline_link_clicks",
    "spend",
    "cpc",
    "cpm",
    "ctr",
    "actions",
    "action_values",
    "conversions",
    "conversion_values",
  ],
  attributionWindows: ["7d_click", "1d_view"],
};

/** The field that identifies a row at each level (with `date_start`, since rows are daily). */
export const LEVEL_KEY: Record<InsightsReport["level"], string> = {
  ad: "ad_id",
  adset: "adset_id",
  campaign: "campaign_id",
  account: "account_id",
};

/** `123` or `act_123` → `act_123`. */
export function adAccountId(value: string): string {
  const v = value.trim();
  const digits = v.startsWith("act_") ? v.slice(4) : v;
  if (!/^\d{1,20}$/.test(digits)) throw new PollFailure(`Meta ad account id ${JSON.stringify(v)} is not act_<digits>`);
  return `act_${digits}`;
}

export function accountsFrom(env: Record<string, unknown>): string[] {
  const raw = typeof env.META_ADS_ACCOUNT_IDS === "string" ? env.META_ADS_ACCOUNT_IDS : "";
  return [
    ...new Set(
      raw
        .split(",")
        .filter((s) => s.trim() !== "")
        .map(adAccountId),
    ),
  ];
}

/** The trailing attribution window ending today (UTC): Meta restates conversions for up to 28 days. */
export function attributionWindow(nowMs: number, env: Record<string, unknown>): { since: string; until: string } {
  const n = Number(env.META_ADS_ATTRIBUTION_DAYS);
  const days = Number.isInteger(n) && n >= 1 && n <= 90 ? n : 28;
  const until = new Date(nowMs).toISOString().slice(0, 10);
  const since = new Date(Date.parse(`${until}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { since, until };
}
