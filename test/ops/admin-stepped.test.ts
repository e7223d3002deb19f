import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { adminRoutes } from "../../src/admin/routes";
import { readCursor, resetCursor } from "../../src/pollers/cursor";
import { openGate } from "../../src/pollers/rate-gate";
import { type PollJob, runPollStep } from "../../src/pollers/run-poll";
import { checkpoint, claimStream, endLiveRuns, finishRun, insertRun, type RunState } from "../../src/pollers/run-store";
import { amplitude } from "../../src/sources/amplitude";
import { googleAds } from "../../src/sources/google_ads";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { salesforce } from "../../src/sources/salesforce";
import { bulkJob, describeBody, tokenAnswer } from "../../src/sources/salesforce/fixtures";
import { fakeClock, pollEnv, quietLogs, VendorMock } from "../pollers/helpers";
import { anExportZip, eventLines } from "../sources/amplitude-fixtures";
import { StrictVendor } from "../sources/vendor-http";

const TOKEN = "test-admin-token";
const sources = [salesforce, amplitude, googleAds];
const app = adminRoutes(sources, (name) => sources.find((s) => s.name === name));
const NOW = Date.parse("2026-11-25T09:30:00Z");

const INSTANCE = "https://acme.my.salesforce.com";
const V = `${INSTANCE}/services/data/v62.0`;
const LOGIN = "https://login.salesforce.com/services/oauth2/token";
const VARS = {
  SALESFORCE_INSTANCE_URL: INSTANCE,
  SALESFORCE_CLIENT_ID: "3MVG9-client",
  SALESFORCE_CLIENT_SECRET: "sf-client-secret",
  SALESFORCE_REFRESH_TOKEN: "sf-refresh-token",
  AMPLITUDE_API_KEY: "amp-key",
  AMPLITUDE_SECRET_KEY: "amp-secret",
};

const GOOGLE_ADS = {
  GOOGLE_ADS_DEVELOPER_TOKEN: "dev-token",
  GOOGLE_ADS_CUSTOMER_IDS: "123-456-7890",
  GOOGLE_ADS_CLIENT_ID: "ga-client",
  GOOGLE_ADS_CLIENT_SECRET: "ga-secret",
  GOOGLE_ADS_REFRESH_TOKEN: "ga-refresh",
};

let queued: PollJob[] = [];
function call(method: string, path: string, body?: unknown) {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const jobs = { send: async (job: PollJob) => void queued.push(job) } as unknown as Queue<unknown>;
  return app.fetch(new Request(`https://dock.example${path}`, init), { ...env, ...VARS, ...GOOGLE_ADS, JOBS: jobs });
}

async function runRow(id: string) {
  return env.DB.prepare("SELECT status, error FROM runs WHERE id = ?1").bind(id).first<{ status: string; error: string | null }>();
}

beforeEach(() => {
  quietLogs();
  clearTokenCache();
  queued = [];
});
afterEach(() => vi.restoreAllMocks());

describe("admin API: stepped streams (Salesforce Bulk loads, Amplitude export hours)", () => {
  it("given a Salesforce object past its first load with a run live mid-way, when the operator resets its cursor through the admin API, then the live run ends and writes nothing, and the next run starts a Bulk API load again", async () => {
    await resetCursor(env.DB, "salesforce", "account", "2026-11-20T00:00:00.000Z");
    const vendor = new VendorMock()
      .on(LOGIN, { body: tokenAnswer("00Dxx!access", INSTANCE) })
      .on(`${V}/sobjects/Account/describe`, { body: describeBody(["Id", "Name", "IsDeleted", "SystemModstamp"]) })
      .on(`${V}/jobs/query`, { body: bulkJob("750xx-redo", "UploadComplete") });
    vendor.install();
    // A REST run that has described the object and handed over to its continuation: live, with its own saved step.
    const live = await runPollStep(
      pollEnv(VARS),
      salesforce,
      { kind: "poll", source: "salesforce", stream: "account" },
      { clock: fakeClock(NOW), gate: openGate, budget: { pages: 1 } },
    );
    expect(live.status).toBe("continued");

    const res = await call("DELETE", "/admin/streams/salesforce/account/cursor");

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ cursor_before: "2026-11-20T00:00:00.000Z", cursor: null, runs_ended: [live.runId] });
    expect(await runRow(live.runId)).toMatchObject({ status: "failed", error: expect.stringMatching(/operator reset the cursor/) });
    // The ended run's continuation arrives: it does nothing, and the cursor stays forgotten.
    const late = await runPollStep(
      pollEnv(VARS),
      salesforce,
      { kind: "poll", source: "salesforce", stream: "account", run_id: live.runId },
      { clock: fakeClock(NOW), gate: openGate },
    );
    expect(late.status).toBe("skipped");
    expect(await readCursor(env.DB, "salesforce", "account")).toBeNull();

    vendor.requests.length = 0;
    const redo = await runPollStep(
      pollEnv(VARS),
      salesforce,
      { kind: "poll", source: "salesforce", stream: "account" },
      { clock: fakeClock(NOW), gate: openGate },
    );
    expect(vendor.unexpected).toEqual([]);
    expect(redo.status).toBe("deferred"); // waiting on the Bulk job, in a delayed continuation
    const bulk = vendor.requests.find((r) => r.url === `${V}/jobs/query`);
    expect(bulk?.method).toBe("POST");
    expect(JSON.parse(bulk?.body ?? "{}")).toMatchObject({
      operation: "queryAll",
      query: "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account",
    });
  });

  it("given Amplitude exported through 06:00, when the operator backfills from 03:00 through the admin API, then the cursor goes to the hour before, a poll is queued, and that poll exports 03:00–06:00 again", async () => {
    await resetCursor(env.DB, "amplitude", "export_events", "20261125T06");

    const res = await call("POST", "/admin/streams/amplitude/export_events/backfill", { from: "2026-11-25T03:20:00Z" });

    expect(res.status, await res.clone().text()).toBe(202);
    expect(await res.json()).toMatchObject({ how: expect.stringContaining("20261125T02") });
    expect(await readCursor(env.DB, "amplitude", "export_events")).toBe("20261125T02");
    expect(queued).toEqual([expect.objectContaining({ kind: "poll", source: "amplitude", stream: "export_events" })]);

    const basic = `Basic ${btoa(`${VARS.AMPLITUDE_API_KEY}:${VARS.AMPLITUDE_SECRET_KEY}`)}`;
    const vendor = new StrictVendor().on(
      { url: "https://amplitude.com/api/2/export?start=20261125T03&end=20261125T06", headers: { authorization: basic } },
      { body: anExportZip(1, { "20261125T03": [eventLines("20261125T03", 0, 2)], "20261125T05": [eventLines("20261125T05", 0, 1)] }) },
    );
    vendor.install();
    const out = await runPollStep(pollEnv(VARS), amplitude, queued[0] as PollJob, { clock: fakeClock(NOW), gate: openGate });

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 3 });
    expect(await readCursor(env.DB, "amplitude", "export_events")).toBe("20261125T06");
  });

  it("given a stepped stream, when the operator sets its cursor to some text, then 422 saying what to do instead, and the cursor is unchanged", async () => {
    await resetCursor(env.DB, "amplitude", "export_events", "20261125T06");

    const res = await call("PUT", "/admin/streams/amplitude/export_events/cursor", { cursor: "2026-11-01" });

    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: string }).error).toMatch(/stepped.*forget it.*backfill from a time/);
    expect(await readCursor(env.DB, "amplitude", "export_events")).toBe("20261125T06");
  });

  it("given stepped streams that cannot start at a time, when backfilled, then a report stream gets a full refresh and change_status is refused with what to do", async () => {
    const report = await call("POST", "/admin/streams/google_ads/campaign_daily/backfill", { from: "2026-11-01T00:00:00Z" });
    expect(report.status).toBe(202);
    expect(queued).toEqual([expect.objectContaining({ kind: "full_refresh", stream: "campaign_daily" })]);

    const changes = await call("POST", "/admin/streams/google_ads/change_status/backfill", { from: "2026-11-01T00:00:00Z" });
    expect(changes.status).toBe(422);
    expect(((await changes.json()) as { error: string }).error).toMatch(/forget its cursor/);
    expect(queued).toHaveLength(1);
  });
});

describe("run store: an operator's reset wins over a run in flight", () => {
  it.each(["checkpoint", "finish"] as const)(
    "given a run whose step is in flight when the operator forgets the cursor, when the step ends (%s with a cursor move), then nothing is written and the cursor stays forgotten",
    async (ending) => {
      const at = new Date(NOW);
      const scope = { source: "guarded", stream: `s_${ending}`, pattern: "poll" as const, runId: `poll-guarded-${ending}` };
      const state: RunState = {
        v: 1,
        cursorFrom: null,
        cursorStored: null,
        cursorMax: null,
        pages: 0,
        records: 0,
        parts: 0,
        retriesLeft: 3,
        seen: [],
        emptyStreak: 0,
      };
      expect(await claimStream(env.DB, scope.source, scope.stream, "poll", scope.runId, at)).toBe(true);
      const stateText = await insertRun(env.DB, { ...scope, id: scope.runId, state, now: at });

      expect(await endLiveRuns(env.DB, scope.source, scope.stream, "superseded: an operator reset the cursor", at)).toEqual([scope.runId]);
      await resetCursor(env.DB, scope.source, scope.stream, null, at);
      const move = { from: null, to: "2026-11-25T09:00:00.000Z" };
      const ok =
        ending === "checkpoint"
          ? (await checkpoint(env.DB, scope, stateText, { ...state, pages: 1 }, at, move)).ok
          : await finishRun(env.DB, scope, stateText, state, { status: "succeeded", intervalMinutes: 15, moveCursor: move }, at);

      expect(ok).toBe(false);
      expect(await readCursor(env.DB, scope.source, scope.stream)).toBeNull();
    },
  );
});
