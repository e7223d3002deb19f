/** Answers shaped like the Marketing API's async insights (Graph v24.0). */

export function anInsightsRow(adId: string, date: string) {
  const row: Record<string, unknown> = {
    account_id: "1000001",
    account_currency: "USD",
    campaign_id: "23850000000000001",
    campaign_name: "Prospecting",
    adset_id: "23850000000000101",
    adset_name: "Lookalike 1%",
    ad_id: adId,
    ad_name: `Ad ${adId}`,
    date_start: date,
    date_stop: date,
    impressions: "5120",
    reach: "4410",
    clicks: "97",
    spend: "41.37",
    actions: [{ action_type: "purchase", value: "3", "7d_click": "3", "1d_view": "0" }],
  };
  const builder = {
    withSpend(spend: string) {
      row.spend = spend;
      return builder;
    },
    build: () => row,
  };
  return builder;
}

export const aReportRun = (id: string) => JSON.stringify({ report_run_id: id });

export const aJobStatus = (id: string, status: string, percent: number) =>
  JSON.stringify({ id, async_status: status, async_percent_completion: percent });

/** A results page; with `after`, `paging.next` points at the next page as Graph writes it. */
export function anInsightsPage(runId: string, rows: unknown[], after?: string) {
  return JSON.stringify({
    data: rows,
    paging: {
      cursors: { before: "MAZDZD", after: after ?? "MjQZD" },
      ...(after ? { next: `https://graph.facebook.com/v24.0/${runId}/insights?limit=500&after=${after}` } : {}),
    },
  });
}

/** Graph's rate-limit error: sent as HTTP 400 with a code, not as a 429. */
export const aGraphThrottle = (code: number) =>
  JSON.stringify({
    error: { message: "(#17) User request limit reached", type: "OAuthException", code, error_subcode: 2446079, fbtrace_id: "AbCdEf" },
  });

export function businessUsage(callCount: number, regainMinutes = 0) {
  return JSON.stringify({
    "1234567890": [
      { type: "ads_insights", call_count: callCount, total_cputime: 10, total_time: 10, estimated_time_to_regain_access: regainMinutes },
    ],
  });
}
