/** A GAQL report pulled as a restatement window: one stream, one snapshot per run. */
export interface GaqlReport {
  /** The stream's name. */
  name: string;
  /** GAQL with `{from}` and `{to}` (YYYY-MM-DD), filled with the run's window. */
  query: string;
  /** Paths (as the API answers: camelCase) whose values identify a row. */
  key: string[];
}

const METRICS =
  "metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions, metrics.conversions_value, metrics.all_conversions, metrics.view_through_conversions";

/** Campaign and ad-group daily performance (what most marketing models start from), and their dimensions. */
export const DEFAULT_REPORTS: GaqlReport[] = [
  {
    name: "campaign_daily",
    query: `SELECT customer.id, customer.currency_code, customer.time_zone, campaign.resource_name, campaign.id, campaign.name, campaign.status, campaign.advertising_channel_type, segments.date, ${METRICS} FROM campaign WHERE segments.date BETWEEN '{from}' AND '{to}'`,
    key: ["campaign.resourceName", "segments.date"],
  },
  {
    name: "ad_group_daily",
    query: `SELECT customer.id, campaign.id, ad_group.resource_name, ad_group.id, ad_group.name, ad_group.status, segments.date, ${METRICS} FROM ad_group WHERE segments.date BETWEEN '{from}' AND '{to}'`,
    key: ["adGroup.resourceName", "segments.date"],
  },
  // The dimensions the daily rows join to, whole each night (no window: no {from}/{to}); REMOVED ones included.
  {
    name: "campaigns",
    query:
      "SELECT customer.id, campaign.resource_name, campaign.id, campaign.name, campaign.status, campaign.serving_status, campaign.advertising_channel_type, campaign.bidding_strategy_type, campaign.start_date, campaign.end_date, campaign_budget.amount_micros FROM campaign",
    key: ["campaign.resourceName"],
  },
  {
    name: "ad_groups",
    query:
      "SELECT customer.id, campaign.id, ad_group.resource_name, ad_group.id, ad_group.name, ad_group.status, ad_group.type FROM ad_group",
    key: ["adGroup.resourceName"],
  },
];

/** The trailing window that ends today (UTC): conversions restate for weeks, so every run re-pulls it. */
export function restatementWindow(nowMs: number, days: number): { from: string; to: string } {
  const to = new Date(nowMs).toISOString().slice(0, 10);
  const from = new Date(Date.parse(`${to}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { from, to };
}

export function fillQuery(query: string, window: { from: string; to: string }): string {
  return query.replaceAll("{from}", window.from).replaceAll("{to}", window.to);
}

export function restatementDays(env: Record<string, unknown>, fallback = 30): number {
  const n = Number(env.GOOGLE_ADS_RESTATEMENT_DAYS);
  return Number.isInteger(n) && n >= 1 && n <= 365 ? n : fallback;
}
