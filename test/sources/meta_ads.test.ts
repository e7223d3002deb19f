import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { snapshotManifestKey, snapshotPrefix } from "../../src/envelope/raw-keys";
import { localGate, openGate, SlotSchedule } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import type { PollSource } from "../../src/pollers/types";
import { defineMetaAdsSource } from "../../src/sources/meta_ads";
import { readEnvelopes } from "../helpers/raw-zone";
import { deliverIngest, fakeClock, logLines, pollEnv, quietLogs } from "../pollers/helpers";
import { aGraphThrottle, aJobStatus, anInsightsPage, anInsightsRow, aReportRun, businessUsage } from "./meta-ads-fixtures";
import { StrictVendor } from "./vendor-http";

const GRAPH = "https://graph.facebook.com/v24.0";
const TOKEN = "EAAG-system-user-token-test";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const NOW = Date.parse("2026-11-25T02:00:00Z");
const FIELDS =
  "account_id,account_currency,campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,date_start,date_stop,impressions,reach,frequency,clicks,inline_link_clicks,spend,cpc,cpm,ctr,actions,action_values,conversions,conversion_values";

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

let counter = 0;
function aMetaAdsSource(): PollSource {
  return defineMetaAdsSource({ name: `meta_ads_t${++counter}` });
}
function metaEnv(accounts = "act_1000001") {
  return pollEnv({ META_ADS_ACCESS_TOKEN: TOKEN, META_ADS_ACCOUNT_IDS: accounts });
}

/** The documented start of an async job: level, fields, a 28-day time_range, daily rows, attribution windows. */
function startJob(account: string, since = "2026-10-29", until = "2026-11-25") {
  const form = new URLSearchParams({
    level: "ad",
    fields: FIELDS,
    time_range: `{"since":"${since}","until":"${until}"}`,
    time_increment: "1",
    action_attribution_windows: '["7d_click","1d_view"]',
  });
  return {
    method: "POST" as const,
    url: `${GRAPH}/${account}/insights`,
    text: form.toString(),
    headers: { ...AUTH, "content-type": "application/x-www-form-urlencoded" },
  };
}
const status = (id: string) => ({ url: `${GRAPH}/${id}?fields=id,async_status,async_percent_completion`, headers: AUTH });
const results = (id: string, after?: string) => ({
  url: `${GRAPH}/${id}/insights?limit=500${after ? `&after=${after}` : ""}`,
  headers: AUTH,
});

async function runRow(id: string) {
  return workerEnv.DB.prepare("SELECT status, error, state FROM runs WHERE id = ?1")
    .bind(id)
    .first<{ status: string; error: string | null; state: string }>();
}

describe("meta ads: async insights across invocations", () => {
  it("given a job that runs for a while, when each invocation ends in a delayed continuation, then the job id waits in D1, the results are paged once complete, and a snapshot with a manifest lands", async () => {
    const source = aMetaAdsSource();
    const vendor = new StrictVendor()
      .on(startJob("act_1000001"), { body: aReportRun("6011111111") })
      .on(
        status("6011111111"),
        { body: aJobStatus("6011111111", "Job Running", 40) },
        { body: aJobStatus("6011111111", "Job Completed", 100) },
      )
      .on(results("6011111111"), {
        body: anInsightsPage(
          "6011111111",
          [anInsightsRow("101", "2026-11-24").build(), anInsightsRow("102", "2026-11-24").build()],
          "QVFIUk",
        ),
      })
      .on(results("6011111111", "QVFIUk"), { body: anInsightsPage("6011111111", [anInsightsRow("101", "2026-11-25").build()]) });
    vendor.install();
    const env = metaEnv();
    const clock = fakeClock(NOW);
    const job = { kind: "full_refresh" as const, source: source.name, stream: "ads_insights", run_id: `fr-${source.name}` };

    const first = await runPollStep(env, source, job, { clock, gate: openGate });
    expect(first.status).toBe("deferred");
    expect(JSON.parse((await runRow(job.run_id))?.state ?? "{}").custom).toMatchObject({
      phase: "wait",
      job: { id: "6011111111", attempt: 1 },
    });

    clock.t += 15_000;
    const second = await runPollStep(env, source, job, { clock, gate: openGate });
    expect(second.status).toBe("deferred");
    expect(JSON.parse((await runRow(job.run_id))?.state ?? "{}").custom).toMatchObject({ job: { status: "Job Running", percent: 40 } });

    clock.t += 30_000;
    const third = await runPollStep(env, source, job, { clock, gate: openGate });

    expect(vendor.unexpected).toEqual([]);
    expect(third).toMatchObject({ status: "succeeded", records: 3 });
    expect(clock.sleeps).toEqual([]);
    expect(env.JOBS.messages.map((m) => m.delaySeconds)).toEqual([15, 30]);
    expect(env.JOBS.messages.every((m) => (m.body as { run_id: string }).run_id === job.run_id)).toBe(true);
    await deliverIngest(env.INGEST);
    const rows = await readEnvelopes(snapshotPrefix(source.name, "ads_insights", job.run_id));
    expect(rows.map((r) => r._dock.key).sort()).toEqual(["101|2026-11-24", "101|2026-11-25", "102|2026-11-24"]);
    expect(await workerEnv.RAW.head(snapshotManifestKey(source.name, "ads_insights", job.run_id))).not.toBeNull();
  });

  it("given a job that fails and its retry that is skipped, when the run goes on, then the other account still lands, and the run fails recording both jobs with their error and no manifest", async () => {
    const source = aMetaAdsSource();
    const vendor = new StrictVendor()
      .on(startJob("act_1000001"), { body: aReportRun("601") }, { body: aReportRun("602") })
      .on(status("601"), { body: aJobStatus("601", "Job Failed", 35) })
      .on(status("602"), { body: aJobStatus("602", "Job Skipped", 0) })
      .on(startJob("act_2000002"), { body: aReportRun("701") })
      .on(status("701"), { body: aJobStatus("701", "Job Completed", 100) })
      .on(results("701"), { body: anInsightsPage("701", [anInsightsRow("201", "2026-11-25").build()]) });
    vendor.install();
    const env = metaEnv("act_1000001, 2000002");
    const clock = fakeClock(NOW);
    const job = { kind: "full_refresh" as const, source: source.name, stream: "ads_insights", run_id: `fr-${source.name}` };

    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const out = await runPollStep(env, source, job, { clock, gate: openGate });
      outcomes.push(out.status);
      if (out.status !== "deferred" && out.status !== "continued") break;
      clock.t += 60_000;
    }

    expect(vendor.unexpected).toEqual([]);
    expect(outcomes).toEqual(["deferred", "deferred", "deferred", "failed"]);
    const run = await runRow(job.run_id);
    expect(run?.status).toBe("failed");
    expect(run?.error).toMatch(/^insights jobs failed: act_1000001: report run 602 ended "Job Skipped" at 0% \(attempt 2 of 2\)$/);
    expect(logLines.filter((l) => l.includes('"event":"meta_ads.job_failed"'))).toHaveLength(2);
    expect(logLines.some((l) => l.includes("report run 601") && l.includes("Job Failed"))).toBe(true);
    await deliverIngest(env.INGEST);
    expect((await readEnvelopes(snapshotPrefix(source.name, "ads_insights", job.run_id))).map((r) => r._dock.key)).toEqual([
      "201|2026-11-25",
    ]);
    expect(await workerEnv.RAW.head(snapshotManifestKey(source.name, "ads_insights", job.run_id))).toBeNull();
  });

  it("given a job that never finishes, when an hour has passed, then it is abandoned as timed out with its last status", async () => {
    const source = aMetaAdsSource();
    new StrictVendor()
      .on(startJob("act_1000001"), { body: aReportRun("6099") })
      .on(status("6099"), { body: aJobStatus("6099", "Job Running", 12) })
      .install();
    const env = metaEnv();
    const clock = fakeClock(NOW);
    const job = { kind: "full_refresh" as const, source: source.name, stream: "ads_insights", run_id: `fr-${source.name}` };

    let out = await runPollStep(env, source, job, { clock, gate: openGate });
    let invocations = 1;
    while (out.status === "deferred" && invocations < 40) {
      clock.t += (env.JOBS.messages.at(-1)?.delaySeconds ?? 0) * 1000;
      out = await runPollStep(env, source, job, { clock, gate: openGate });
      invocations++;
    }

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/^insights jobs failed: act_1000001: report run 6099 timed out after 6\d min, still "Job Running" at 12%$/);
    // Status checks back off (15 s doubling to 5 min): an hour takes a handful of invocations, not hundreds.
    expect(invocations).toBeLessThan(20);
    expect(Math.max(...env.JOBS.messages.map((m) => m.delaySeconds ?? 0))).toBe(300);
  });
});

describe("meta ads: configuration", () => {
  it("given an ad account id that is not act_<digits>, when the job runs, then the run fails naming it, before any request", async () => {
    const source = aMetaAdsSource();
    const vendor = new StrictVendor();
    vendor.install();
    const out = await runPollStep(
      metaEnv("act_1000001, acct-9"),
      source,
      { kind: "full_refresh", source: source.name, stream: "ads_insights" },
      { clock: fakeClock(NOW), gate: openGate },
    );

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/Meta ad account id "acct-9" is not act_<digits>/);
    expect(vendor.requests).toHaveLength(0);
  });
});

describe("meta ads: throttling", () => {
  it("given business use case usage at 95%, when the next request is due, then the source slows down: the run is deferred by the usage wait instead of calling again", async () => {
    const source = aMetaAdsSource();
    const vendor = new StrictVendor()
      .on(startJob("act_1000001"), { body: aReportRun("6033"), headers: { "x-business-use-case-usage": businessUsage(95) } })
      .on(status("6033"), { body: aJobStatus("6033", "Job Completed", 100) })
      .on(results("6033"), { body: anInsightsPage("6033", [anInsightsRow("301", "2026-11-25").build()]) });
    vendor.install();
    const env = metaEnv();
    const clock = fakeClock(NOW);
    const gate = localGate(source.name, 10, clock, new SlotSchedule());
    const waits: [number, string][] = [];
    const job = { kind: "full_refresh" as const, source: source.name, stream: "ads_insights", run_id: `fr-${source.name}` };

    await runPollStep(env, source, job, { clock, gate, onWait: (ms, why) => waits.push([ms, why]) });
    expect(waits).toEqual([[240_000, "usage"]]);
    clock.t += 15_000;
    const second = await runPollStep(env, source, job, { clock, gate });

    expect(second.status).toBe("deferred");
    expect(vendor.hits(status("6033").url)).toBe(0);
    expect(env.JOBS.messages.at(-1)?.delaySeconds).toBe(225);
    clock.t += 225_000;
    expect(await runPollStep(env, source, job, { clock, gate })).toMatchObject({ status: "succeeded", records: 1 });
  });

  it("given a Graph rate-limit error (code 17 as HTTP 400) naming 2 minutes to regain access, when polled, then the request is retried after that wait, in a later invocation", async () => {
    const source = aMetaAdsSource();
    const vendor = new StrictVendor()
      .on(
        startJob("act_1000001"),
        { status: 400, body: aGraphThrottle(17), headers: { "x-business-use-case-usage": businessUsage(100, 2) } },
        { body: aReportRun("6044") },
      )
      .on(status("6044"), { body: aJobStatus("6044", "Job Completed", 100) })
      .on(results("6044"), { body: anInsightsPage("6044", []) });
    vendor.install();
    const env = metaEnv();
    const clock = fakeClock(NOW);
    const job = { kind: "full_refresh" as const, source: source.name, stream: "ads_insights", run_id: `fr-${source.name}` };

    const first = await runPollStep(env, source, job, { clock, gate: openGate });
    expect(first.status).toBe("deferred");
    expect(env.JOBS.messages[0]?.delaySeconds).toBeGreaterThanOrEqual(120);
    clock.t += 180_000;
    expect((await runPollStep(env, source, job, { clock, gate: openGate })).status).toBe("deferred");
    clock.t += 15_000;
    expect(await runPollStep(env, source, job, { clock, gate: openGate })).toMatchObject({ status: "succeeded", records: 0 });
    expect(vendor.unexpected).toEqual([]);
  });

  it("given a refused token (Graph error 190), when polled, then the run fails at once with the error and without the token", async () => {
    const source = aMetaAdsSource();
    new StrictVendor()
      .on(startJob("act_1000001"), {
        status: 400,
        body: JSON.stringify({
          error: { message: "Error validating access token: Session has expired", type: "OAuthException", code: 190 },
        }),
      })
      .install();
    const out = await runPollStep(
      metaEnv(),
      source,
      { kind: "full_refresh", source: source.name, stream: "ads_insights" },
      { clock: fakeClock(NOW), gate: openGate },
    );

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/answered 400: .*"code":190/);
    expect(out.error).not.toContain(TOKEN);
  });
});
