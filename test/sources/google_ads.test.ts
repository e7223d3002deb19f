import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { snapshotManifestKey, snapshotPrefix } from "../../src/envelope/raw-keys";
import { readCursor, resetCursor } from "../../src/pollers/cursor";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import type { PollSource } from "../../src/pollers/types";
import { defineGoogleAdsSource } from "../../src/sources/google_ads";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { listKeys, readEnvelopes } from "../helpers/raw-zone";
import { deliverIngest, fakeClock, pollEnv, quietLogs, versionWithDigest } from "../pollers/helpers";
import { aCampaignDay, aChangeStatusRow, aResourceExhausted, aSearchAnswer, aTokenAnswer } from "./google-ads-fixtures";
import { StrictVendor } from "./vendor-http";

const API = "https://googleads.googleapis.com/v21";
const TOKEN_URL = "https://oauth2.googleapis.com/token";
const SECRETS = {
  GOOGLE_ADS_CLIENT_ID: "client-id-test.apps.googleusercontent.com",
  GOOGLE_ADS_CLIENT_SECRET: "client-secret-test",
  GOOGLE_ADS_REFRESH_TOKEN: "1//refresh-token-test",
  GOOGLE_ADS_DEVELOPER_TOKEN: "dev-token-test",
  GOOGLE_ADS_LOGIN_CUSTOMER_ID: "111-222-3333",
};
const A = "1234567890";
const B = "9876543210";
const TOKEN_FORM = `client_id=${encodeURIComponent(SECRETS.GOOGLE_ADS_CLIENT_ID)}&client_secret=${SECRETS.GOOGLE_ADS_CLIENT_SECRET}&grant_type=refresh_token&refresh_token=${encodeURIComponent(SECRETS.GOOGLE_ADS_REFRESH_TOKEN)}`;
const HEADERS = {
  authorization: "Bearer ya29.access-test",
  "developer-token": SECRETS.GOOGLE_ADS_DEVELOPER_TOKEN,
  "login-customer-id": "1112223333",
  "content-type": "application/json",
};
const CAMPAIGN_QUERY = (from: string, to: string) =>
  `SELECT customer.id, customer.currency_code, customer.time_zone, campaign.resource_name, campaign.id, campaign.name, campaign.status, campaign.advertising_channel_type, segments.date, metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions, metrics.conversions_value, metrics.all_conversions, metrics.view_through_conversions FROM campaign WHERE segments.date BETWEEN '${from}' AND '${to}'`;

beforeEach(() => {
  quietLogs();
  clearTokenCache();
});
afterEach(() => vi.restoreAllMocks());

let counter = 0;
function aGoogleAdsSource(): PollSource {
  return defineGoogleAdsSource({ name: `google_ads_t${++counter}` });
}
function adsEnv(customers = `123-456-7890, 987-654-3210`) {
  return pollEnv({ ...SECRETS, GOOGLE_ADS_CUSTOMER_IDS: customers });
}
function withToken(vendor: StrictVendor) {
  return vendor.on({ method: "POST", url: TOKEN_URL, text: TOKEN_FORM }, { body: aTokenAnswer("ya29.access-test") });
}
function search(customer: string, body: unknown) {
  return { method: "POST" as const, url: `${API}/customers/${customer}/googleAds:search`, json: body, headers: HEADERS };
}

describe("google ads: GAQL reports", () => {
  it("given two customers, one with two pages, when the nightly refresh runs, then every row of the 30-day window lands in one snapshot with a manifest, pages requested by token", async () => {
    const source = aGoogleAdsSource();
    const q = CAMPAIGN_QUERY("2026-10-27", "2026-11-25");
    const vendor = withToken(new StrictVendor())
      .on(search(A, { query: q }), {
        body: aSearchAnswer([aCampaignDay(A, "11", "2026-11-24").build(), aCampaignDay(A, "12", "2026-11-24").build()])
          .withNextPageToken("CPa2")
          .json(),
      })
      .on(search(A, { query: q, pageToken: "CPa2" }), { body: aSearchAnswer([aCampaignDay(A, "11", "2026-11-25").build()]).json() })
      .on(search(B, { query: q }), { body: aSearchAnswer([aCampaignDay(B, "31", "2026-11-25").build()]).json() });
    vendor.install();
    const env = adsEnv();
    const job = { kind: "full_refresh" as const, source: source.name, stream: "campaign_daily", run_id: `fr-${source.name}-1` };

    const out = await runPollStep(env, source, job, { clock: fakeClock(Date.parse("2026-11-25T03:00:00Z")), gate: openGate });

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", pages: 3, records: 4 });
    await deliverIngest(env.INGEST);
    const rows = await readEnvelopes(snapshotPrefix(source.name, "campaign_daily", job.run_id));
    expect(rows.map((r) => r._dock.key).sort()).toEqual([
      `customers/${A}/campaigns/11|2026-11-24`,
      `customers/${A}/campaigns/11|2026-11-25`,
      `customers/${A}/campaigns/12|2026-11-24`,
      `customers/${B}/campaigns/31|2026-11-25`,
    ]);
    expect(rows.every((r) => r._dock.pattern === "full_refresh" && r._dock.op === "snapshot")).toBe(true);
    expect(await workerEnv.RAW.head(snapshotManifestKey(source.name, "campaign_daily", job.run_id))).not.toBeNull();
  });

  it("given yesterday's snapshot, when today's run re-pulls the window with a restated day, then it lands as a new partition and yesterday's partition is untouched", async () => {
    const source = aGoogleAdsSource();
    const env = adsEnv(A);
    const day = "2026-11-20";
    const unchanged = aCampaignDay(A, "12", day).build();
    const first = withToken(new StrictVendor()).on(search(A, { query: CAMPAIGN_QUERY("2026-10-27", "2026-11-25") }), {
      body: aSearchAnswer([aCampaignDay(A, "11", day).withConversions(3).build(), unchanged]).json(),
    });
    first.install();
    const run1 = { kind: "full_refresh" as const, source: source.name, stream: "campaign_daily", run_id: `fr-${source.name}-day1` };
    expect(await runPollStep(env, source, run1, { clock: fakeClock(Date.parse("2026-11-25T03:00:00Z")), gate: openGate })).toMatchObject({
      status: "succeeded",
    });
    await deliverIngest(env.INGEST);
    const keys1 = await listKeys(snapshotPrefix(source.name, "campaign_daily", run1.run_id));
    const bytes1 = await Promise.all(keys1.map(async (k) => (await workerEnv.RAW.get(k))?.text()));

    vi.restoreAllMocks();
    clearTokenCache();
    const second = withToken(new StrictVendor()).on(search(A, { query: CAMPAIGN_QUERY("2026-10-28", "2026-11-26") }), {
      body: aSearchAnswer([aCampaignDay(A, "11", day).withConversions(5).build(), unchanged]).json(),
    });
    second.install();
    const run2 = { kind: "full_refresh" as const, source: source.name, stream: "campaign_daily", run_id: `fr-${source.name}-day2` };
    expect(await runPollStep(env, source, run2, { clock: fakeClock(Date.parse("2026-11-26T03:00:00Z")), gate: openGate })).toMatchObject({
      status: "succeeded",
    });
    await deliverIngest(env.INGEST);

    expect(second.unexpected).toEqual([]);
    expect(await listKeys(snapshotPrefix(source.name, "campaign_daily", run1.run_id))).toEqual(keys1);
    expect(await Promise.all(keys1.map(async (k) => (await workerEnv.RAW.get(k))?.text()))).toEqual(bytes1);
    const conversions = async (runId: string) =>
      Object.fromEntries(
        (await readEnvelopes(snapshotPrefix(source.name, "campaign_daily", runId))).map((r) => [
          r._dock.key,
          (r.data as { metrics: { conversions: number } }).metrics.conversions,
        ]),
      );
    expect(await conversions(run1.run_id)).toEqual({
      [`customers/${A}/campaigns/11|${day}`]: 3,
      [`customers/${A}/campaigns/12|${day}`]: 3,
    });
    // The restated day and the unchanged row are both in the new partition: a re-pull is never deduped away.
    expect(await conversions(run2.run_id)).toEqual({
      [`customers/${A}/campaigns/11|${day}`]: 5,
      [`customers/${A}/campaigns/12|${day}`]: 3,
    });
  });

  it("given the campaigns dimension, when the nightly refresh runs, then the query has no date window and every campaign, removed ones too, lands in the snapshot", async () => {
    const source = aGoogleAdsSource();
    const campaign = (id: string, status: string) => ({
      customer: { id: A },
      campaign: { resourceName: `customers/${A}/campaigns/${id}`, id, name: `C${id}`, status },
    });
    const vendor = withToken(new StrictVendor()).on(
      search(A, {
        query:
          "SELECT customer.id, campaign.resource_name, campaign.id, campaign.name, campaign.status, campaign.serving_status, campaign.advertising_channel_type, campaign.bidding_strategy_type, campaign.start_date, campaign.end_date, campaign_budget.amount_micros FROM campaign",
      }),
      { body: aSearchAnswer([campaign("11", "ENABLED"), campaign("12", "REMOVED")]).json() },
    );
    vendor.install();
    const env = adsEnv(A);
    const job = { kind: "full_refresh" as const, source: source.name, stream: "campaigns", run_id: `fr-${source.name}-dim` };
    const out = await runPollStep(env, source, job, { clock: fakeClock(Date.parse("2026-11-25T03:00:00Z")), gate: openGate });

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 2 });
    await deliverIngest(env.INGEST);
    expect((await readEnvelopes(snapshotPrefix(source.name, "campaigns", job.run_id))).map((r) => r._dock.key).sort()).toEqual([
      `customers/${A}/campaigns/11`,
      `customers/${A}/campaigns/12`,
    ]);
  });

  it("given RESOURCE_EXHAUSTED with a 20 s retry_delay, when the report runs, then it waits at least 20 s and continues", async () => {
    const source = aGoogleAdsSource();
    const vendor = withToken(new StrictVendor()).on(
      search(A, { query: CAMPAIGN_QUERY("2026-10-27", "2026-11-25") }),
      { status: 429, body: aResourceExhausted("20s") },
      { body: aSearchAnswer([aCampaignDay(A, "11", "2026-11-25").build()]).json() },
    );
    vendor.install();
    const clock = fakeClock(Date.parse("2026-11-25T03:00:00Z"));
    const out = await runPollStep(
      adsEnv(A),
      source,
      { kind: "full_refresh", source: source.name, stream: "campaign_daily" },
      { clock, gate: openGate },
    );

    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(20_000);
  });

  it("given RESOURCE_EXHAUSTED asking for an hour, when the report runs, then no Worker sleeps: the run is deferred to a delayed continuation and resumes where it was", async () => {
    const source = aGoogleAdsSource();
    const q = CAMPAIGN_QUERY("2026-10-27", "2026-11-25");
    const vendor = withToken(new StrictVendor())
      .on(search(A, { query: q }), { body: aSearchAnswer([aCampaignDay(A, "11", "2026-11-25").build()]).json() })
      .on(
        search(B, { query: q }),
        { status: 429, body: aResourceExhausted("3600s") },
        { body: aSearchAnswer([aCampaignDay(B, "31", "2026-11-25").build()]).json() },
      );
    vendor.install();
    const env = adsEnv();
    const clock = fakeClock(Date.parse("2026-11-25T03:00:00Z"));
    const job = { kind: "full_refresh" as const, source: source.name, stream: "campaign_daily", run_id: `fr-${source.name}-q` };

    const first = await runPollStep(env, source, job, { clock, gate: openGate });
    expect(first.status).toBe("deferred");
    expect(clock.sleeps).toEqual([]);
    expect(env.JOBS.messages).toHaveLength(1);
    expect(env.JOBS.messages[0]?.delaySeconds).toBe(900);

    clock.t += 3_600_000;
    const second = await runPollStep(env, source, job, { clock, gate: openGate });
    expect(second).toMatchObject({ status: "succeeded", records: 2 });
    expect(vendor.hits(`${API}/customers/${A}/googleAds:search`)).toBe(1);
  });

  it("given an access token that expired (401), when the report runs, then a fresh token is exchanged from the refresh token and the page is asked again", async () => {
    const source = aGoogleAdsSource();
    const q = CAMPAIGN_QUERY("2026-10-27", "2026-11-25");
    const vendor = new StrictVendor()
      .on(
        { method: "POST", url: TOKEN_URL, text: TOKEN_FORM },
        { body: aTokenAnswer("ya29.old") },
        { body: aTokenAnswer("ya29.access-test") },
      )
      .on(
        { ...search(A, { query: q }), headers: { ...HEADERS, authorization: "Bearer ya29.old" } },
        { status: 401, body: '{"error":{"code":401,"status":"UNAUTHENTICATED"}}' },
      )
      .on(search(A, { query: q }), { body: aSearchAnswer([aCampaignDay(A, "11", "2026-11-25").build()]).json() });
    vendor.install();
    const out = await runPollStep(
      adsEnv(A),
      source,
      { kind: "full_refresh", source: source.name, stream: "campaign_daily" },
      { clock: fakeClock(Date.parse("2026-11-25T03:00:00Z")), gate: openGate },
    );

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(vendor.hits(TOKEN_URL)).toBe(2);
  });

  it("given a refused developer token (403), when the report runs, then the run fails clearly without the token or the access token in the error", async () => {
    const source = aGoogleAdsSource();
    withToken(new StrictVendor())
      .on(search(A, { query: CAMPAIGN_QUERY("2026-10-27", "2026-11-25") }), {
        status: 403,
        body: JSON.stringify({ error: { code: 403, message: "The developer token is not approved.", status: "PERMISSION_DENIED" } }),
      })
      .install();
    const out = await runPollStep(
      adsEnv(A),
      source,
      { kind: "full_refresh", source: source.name, stream: "campaign_daily" },
      { clock: fakeClock(Date.parse("2026-11-25T03:00:00Z")), gate: openGate },
    );

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(
      /^step 1: POST https:\/\/googleads\.googleapis\.com\/v21\/customers\/1234567890\/googleAds:search answered 403: .*PERMISSION_DENIED/,
    );
    expect(out.error).not.toContain(SECRETS.GOOGLE_ADS_DEVELOPER_TOKEN);
    expect(out.error).not.toContain("ya29.access-test");
  });
});

describe("google ads: change_status", () => {
  const QUERY = (from: string, to: string) =>
    `SELECT change_status.resource_name, change_status.last_change_date_time, change_status.resource_type, change_status.resource_status, change_status.campaign, change_status.ad_group, change_status.ad_group_ad, change_status.ad_group_criterion, change_status.campaign_criterion FROM change_status WHERE change_status.last_change_date_time BETWEEN '${from}' AND '${to}' ORDER BY change_status.last_change_date_time LIMIT 10000`;

  it("given a removed campaign, when changes are polled, then it lands as a delete of that campaign, and the next run starts 10 minutes before the last change seen", async () => {
    const source = aGoogleAdsSource();
    const env = adsEnv(A);
    const vendor = withToken(new StrictVendor())
      .on(search(A, { query: QUERY("2026-10-27 08:00:00", "2026-11-26 08:00:00") }), {
        body: aSearchAnswer([
          aChangeStatusRow(A, "AD_GROUP", "77", "CHANGED", "2026-11-25 07:40:12.120000"),
          aChangeStatusRow(A, "CAMPAIGN", "11", "REMOVED", "2026-11-25 07:55:03.000001"),
        ]).json(),
      })
      .on(search(A, { query: QUERY("2026-11-25 07:45:03", "2026-11-26 08:15:00") }), { body: aSearchAnswer([]).json() });
    vendor.install();
    const clock = fakeClock(Date.parse("2026-11-25T08:00:00Z"));

    const first = await runPollStep(env, source, { kind: "poll", source: source.name, stream: "change_status" }, { clock, gate: openGate });
    expect(first).toMatchObject({ status: "succeeded", records: 2 });
    expect(await readCursor(workerEnv.DB, source.name, "change_status")).toBe(JSON.stringify({ [A]: "2026-11-25 07:55:03.000001" }));
    await deliverIngest(env.INGEST);
    const landed = await readEnvelopes(`raw/source=${source.name}/stream=change_status/`);
    expect(landed.map((e) => [e._dock.key, e._dock.op, e._dock.version])).toEqual([
      [`customers/${A}/adGroups/77`, "upsert", versionWithDigest("2026-11-25 07:40:12.120000")],
      [`customers/${A}/campaigns/11`, "delete", versionWithDigest("2026-11-25 07:55:03.000001")],
    ]);

    clock.t += 15 * 60_000;
    const second = await runPollStep(
      env,
      source,
      { kind: "poll", source: source.name, stream: "change_status" },
      { clock, gate: openGate },
    );
    expect(vendor.unexpected).toEqual([]);
    expect(second).toMatchObject({ status: "succeeded", records: 0 });
    expect(await readCursor(workerEnv.DB, source.name, "change_status")).toBe(JSON.stringify({ [A]: "2026-11-25 07:55:03.000001" }));
  });

  it("given more than 10,000 changes since the last run, when polled, then a full answer is followed by a query from its last change time and nothing is lost", async () => {
    const source = aGoogleAdsSource();
    const rows = Array.from({ length: 10_000 }, (_, i) => {
      const at = new Date(Date.parse("2026-11-25T06:00:00Z") + i * 300).toISOString().replace("T", " ").replace("Z", "000");
      return aChangeStatusRow(A, "AD_GROUP", String(100_000 + i), "CHANGED", at);
    });
    const last = rows[rows.length - 1]?.changeStatus.lastChangeDateTime as string;
    const vendor = withToken(new StrictVendor())
      .on(search(A, { query: QUERY("2026-10-27 08:00:00", "2026-11-26 08:00:00") }), { body: aSearchAnswer(rows).json() })
      .on(search(A, { query: QUERY(last.slice(0, 19), "2026-11-26 08:00:00") }), {
        body: aSearchAnswer([rows[rows.length - 1], aChangeStatusRow(A, "CAMPAIGN", "5", "REMOVED", "2026-11-25 07:59:59.000000")]).json(),
      });
    vendor.install();
    const env = adsEnv(A);
    const out = await runPollStep(
      env,
      source,
      { kind: "poll", source: source.name, stream: "change_status" },
      { clock: fakeClock(Date.parse("2026-11-25T08:00:00Z")), gate: openGate },
    );

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", pages: 2, records: 10_002 });
    expect(await readCursor(workerEnv.DB, source.name, "change_status")).toBe(JSON.stringify({ [A]: "2026-11-25 07:59:59.000000" }));
    await deliverIngest(env.INGEST);
    const landed = await readEnvelopes(`raw/source=${source.name}/stream=change_status/`);
    // The row at the boundary was read twice and kept its id: 10,001 distinct records.
    expect(new Set(landed.map((e) => e._dock.id)).size).toBe(10_001);
  });

  it("given a stored position older than change_status reaches, when polled, then the query starts 29 days back, never further", async () => {
    const source = aGoogleAdsSource();
    await resetCursor(workerEnv.DB, source.name, "change_status", JSON.stringify({ [A]: "2026-09-01 00:00:00" }));
    const vendor = withToken(new StrictVendor()).on(search(A, { query: QUERY("2026-10-27 08:00:00", "2026-11-26 08:00:00") }), {
      body: aSearchAnswer([]).json(),
    });
    vendor.install();
    const out = await runPollStep(
      adsEnv(A),
      source,
      { kind: "poll", source: source.name, stream: "change_status" },
      { clock: fakeClock(Date.parse("2026-11-25T08:00:00Z")), gate: openGate },
    );

    expect(vendor.unexpected).toEqual([]);
    expect(out.status).toBe("succeeded");
  });
});
