import { createMessageBatch } from "cloudflare:test";
import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { snapshotManifestKey, snapshotPrefix } from "../../src/envelope/raw-keys";
import { readCursor, resetCursor } from "../../src/pollers/cursor";
import { fullRefreshJobs } from "../../src/pollers/schedule";
import { processJobsBatch } from "../../src/queue-consumers/jobs-consumer";
import { addHours, lastCompleteHour } from "../../src/sources/amplitude/export-hours";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { findSource, sources } from "../../src/sources/registry";
import { readEnvelopes } from "../helpers/raw-zone";
import { deliverIngest, pollEnv, quietLogs } from "../pollers/helpers";
import { anExportZip, eventLines } from "./amplitude-fixtures";
import { aCampaignDay, aSearchAnswer, aTokenAnswer } from "./google-ads-fixtures";
import { aJobStatus, anInsightsPage, anInsightsRow, aReportRun } from "./meta-ads-fixtures";
import { StrictVendor } from "./vendor-http";

beforeEach(() => {
  quietLogs();
  clearTokenCache();
});
afterEach(() => vi.restoreAllMocks());

let n = 0;
function jobBatch(body: unknown) {
  return createMessageBatch("loading-dock-jobs", [{ id: `e2e-${++n}`, timestamp: new Date(), attempts: 1, body }]);
}
const today = () => new Date().toISOString().slice(0, 10);
const daysBack = (days: number) => new Date(Date.parse(`${today()}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

describe("report sources: the nightly schedule", () => {
  const reportJobs = (env: Record<string, unknown>) =>
    fullRefreshJobs(sources, env, new Date("2026-11-25T03:00:00Z"))
      .filter((j) => j.source === "google_ads" || j.source === "meta_ads")
      .map((j) => `${j.source}.${j.stream}`);

  it("given no credentials, when the nightly refresh is planned, then no report job is queued (nothing to fail every night)", () => {
    expect(reportJobs({})).toEqual([]);
  });

  it("given a stray job for a source whose secrets are gone, when it runs, then the run fails saying what is missing, without a request", async () => {
    const vendor = new StrictVendor();
    vendor.install();
    const env = pollEnv({ GOOGLE_ADS_CUSTOMER_IDS: "1234567890" });
    await processJobsBatch(
      env as never,
      jobBatch({ kind: "full_refresh", source: "google_ads", stream: "ad_groups", run_id: `fr-gads-stray-${Date.now()}` }),
    );
    const run = await workerEnv.DB.prepare(
      "SELECT status, error FROM runs WHERE source = 'google_ads' AND stream = 'ad_groups' ORDER BY started_at DESC LIMIT 1",
    ).first<{ status: string; error: string }>();

    expect(run).toEqual({
      status: "failed",
      error: "source google_ads: Google Ads is not configured: set GOOGLE_ADS_DEVELOPER_TOKEN",
    });
    expect(vendor.requests).toHaveLength(0);
  });

  it("given both sources configured, when the nightly refresh is planned, then every report stream gets a job", () => {
    const env = {
      GOOGLE_ADS_DEVELOPER_TOKEN: "d",
      GOOGLE_ADS_CUSTOMER_IDS: "1234567890",
      META_ADS_ACCESS_TOKEN: "t",
      META_ADS_ACCOUNT_IDS: "1",
    };
    expect(reportJobs(env)).toEqual([
      "google_ads.campaign_daily",
      "google_ads.ad_group_daily",
      "google_ads.campaigns",
      "google_ads.ad_groups",
      "meta_ads.ads_insights",
    ]);
  });
});

describe("report sources end to end: JOBS consumer → registered source → INGEST → raw writer", () => {
  it("given the registered google_ads source and a nightly job on JOBS, when the consumer runs it, then the window's rows land in a snapshot with a manifest", async () => {
    expect(findSource("google_ads")?.streams?.map((s) => s.name)).toEqual([
      "campaign_daily",
      "ad_group_daily",
      "campaigns",
      "ad_groups",
      "change_status",
    ]);
    const vendor = new StrictVendor()
      .on(
        {
          method: "POST",
          url: "https://oauth2.googleapis.com/token",
          text: "client_id=cid&client_secret=cs&grant_type=refresh_token&refresh_token=rt",
        },
        { body: aTokenAnswer("ya29.e2e") },
      )
      .on(
        {
          method: "POST",
          url: "https://googleads.googleapis.com/v21/customers/1234567890/googleAds:search",
          json: {
            query: `SELECT customer.id, customer.currency_code, customer.time_zone, campaign.resource_name, campaign.id, campaign.name, campaign.status, campaign.advertising_channel_type, segments.date, metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions, metrics.conversions_value, metrics.all_conversions, metrics.view_through_conversions FROM campaign WHERE segments.date BETWEEN '${daysBack(29)}' AND '${today()}'`,
          },
          headers: { authorization: "Bearer ya29.e2e", "developer-token": "dev-e2e" },
        },
        {
          body: aSearchAnswer([
            aCampaignDay("1234567890", "5", daysBack(3)).build(),
            aCampaignDay("1234567890", "5", daysBack(2)).build(),
          ]).json(),
        },
      );
    vendor.install();
    const env = pollEnv({
      GOOGLE_ADS_CLIENT_ID: "cid",
      GOOGLE_ADS_CLIENT_SECRET: "cs",
      GOOGLE_ADS_REFRESH_TOKEN: "rt",
      GOOGLE_ADS_DEVELOPER_TOKEN: "dev-e2e",
      GOOGLE_ADS_CUSTOMER_IDS: "123-456-7890",
    });
    const runId = `fr-gads-e2e-${Date.now()}`;

    await processJobsBatch(env as never, jobBatch({ kind: "full_refresh", source: "google_ads", stream: "campaign_daily", run_id: runId }));
    await deliverIngest(env.INGEST);

    expect(vendor.unexpected).toEqual([]);
    expect((await readEnvelopes(snapshotPrefix("google_ads", "campaign_daily", runId))).map((e) => e._dock.key).sort()).toEqual([
      `customers/1234567890/campaigns/5|${daysBack(3)}`,
      `customers/1234567890/campaigns/5|${daysBack(2)}`,
    ]);
    expect(await workerEnv.RAW.head(snapshotManifestKey("google_ads", "campaign_daily", runId))).not.toBeNull();
  });

  it("given the registered meta_ads source, when the consumer runs the job and then the continuation it queued, then the insights land in a snapshot with a manifest", async () => {
    const vendor = new StrictVendor()
      .on(
        {
          method: "POST",
          url: "https://graph.facebook.com/v24.0/act_42/insights",
          text: new URLSearchParams({
            level: "ad",
            fields:
              "account_id,account_currency,campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,date_start,date_stop,impressions,reach,frequency,clicks,inline_link_clicks,spend,cpc,cpm,ctr,actions,action_values,conversions,conversion_values",
            time_range: `{"since":"${daysBack(27)}","until":"${today()}"}`,
            time_increment: "1",
            action_attribution_windows: '["7d_click","1d_view"]',
          }).toString(),
          headers: { authorization: "Bearer meta-e2e" },
        },
        { body: aReportRun("777") },
      )
      .on("https://graph.facebook.com/v24.0/777?fields=id,async_status,async_percent_completion", {
        body: aJobStatus("777", "Job Completed", 100),
      })
      .on("https://graph.facebook.com/v24.0/777/insights?limit=500", {
        body: anInsightsPage("777", [anInsightsRow("9", daysBack(1)).build()]),
      });
    vendor.install();
    const env = pollEnv({ META_ADS_ACCESS_TOKEN: "meta-e2e", META_ADS_ACCOUNT_IDS: "42" });
    const runId = `fr-meta-e2e-${Date.now()}`;

    await processJobsBatch(env as never, jobBatch({ kind: "full_refresh", source: "meta_ads", stream: "ads_insights", run_id: runId }));
    const continuation = env.JOBS.messages.splice(0);
    expect(continuation).toHaveLength(1);
    expect(continuation[0]?.delaySeconds).toBe(15);
    await processJobsBatch(env as never, jobBatch(continuation[0]?.body));
    await deliverIngest(env.INGEST);

    expect(vendor.unexpected).toEqual([]);
    expect((await readEnvelopes(snapshotPrefix("meta_ads", "ads_insights", runId))).map((e) => e._dock.key)).toEqual([`9|${daysBack(1)}`]);
    expect(await workerEnv.RAW.head(snapshotManifestKey("meta_ads", "ads_insights", runId))).not.toBeNull();
  });

  it("given the registered amplitude source with a stored hour, when the consumer runs the poll, then the next landed hour's events reach the raw zone and the cursor moves", async () => {
    const last = lastCompleteHour(Date.now(), 2);
    const from = addHours(last, -1);
    await resetCursor(workerEnv.DB, "amplitude", "export_events", from);
    const vendor = new StrictVendor().on(
      { url: `https://amplitude.com/api/2/export?start=${last}&end=${last}`, headers: { authorization: `Basic ${btoa("k:s")}` } },
      { body: anExportZip(5, { [last]: [eventLines(last, 0, 3), eventLines(last, 3, 2)] }) },
    );
    vendor.install();
    const env = pollEnv({ AMPLITUDE_API_KEY: "k", AMPLITUDE_SECRET_KEY: "s" });

    await processJobsBatch(
      env as never,
      jobBatch({ kind: "poll", source: "amplitude", stream: "export_events", run_id: `poll-amp-e2e-${Date.now()}` }),
    );
    await deliverIngest(env.INGEST);

    expect(vendor.unexpected).toEqual([]);
    expect(await readEnvelopes("raw/source=amplitude/stream=export_events/")).toHaveLength(5);
    expect(await readCursor(workerEnv.DB, "amplitude", "export_events")).toBe(last);
  });
});
