import { afterEach, describe, expect, it, vi } from "vitest";
import { defineSource } from "../../src/sources/define-source";
import { meta as metaSource } from "../../src/sources/meta";
import { graphTime, type Lead, leadgenNotification } from "../../src/sources/meta/fixtures";
import { metaVersionTime } from "../../src/sources/meta/reconcile";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { readEnvelopes, readLines } from "../helpers/raw-zone";
import { meta as metaCase } from "../webhooks/cases";
import { deliver } from "../webhooks/support";
import { recordingQueue, reconcileEnv, seeded, sourceState, writeRaw } from "./helpers";
import { ledgerOfDay, objectMarks, pollLines, rawLinesOf, reconcileStepWith, runReconcileJob } from "./record-level";
import { graphLeadsApi } from "./meta-fixtures";

const API = "https://graph-fake.example";
const TOKEN = "EAAB-page-token-reconcile-test";
const FORMS = ["4410000000001", "4410000000002", "4410000000003"];
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Yesterday, whole: the window every test reconciles, so the day can be complete. */
const day = { from: new Date(today - DAY_MS).toISOString(), to: new Date(today).toISOString() };
const metaEnv = (over: Record<string, unknown> = {}) =>
  reconcileEnv({ META_ACCESS_TOKEN: TOKEN, META_LEAD_FORM_IDS: FORMS.join(","), META_API_BASE: API, ...over });

vi.setConfig({ testTimeout: 180_000 });
afterEach(() => vi.restoreAllMocks());

/** `count` leads over the configured forms and two Pages, created at `at(i)` (unix seconds). */
function someLeads(count: number, firstId: number, at: (i: number) => number): Lead[] {
  return Array.from({ length: count }, (_, i) => ({
    id: String(firstId + i),
    formId: FORMS[i % FORMS.length] as string,
    pageId: i % 2 === 0 ? "102030405060708" : "102030405060709",
    createdTime: at(i),
    email: `lead${firstId + i}@example.test`,
  }));
}

/** Posts leadgen notifications to /webhooks/meta as a Page subscription does, `per` leads to a notification, signed with the app secret. */
async function postLeads(leads: readonly Lead[], per = 20, other: Record<string, unknown>[] = []): Promise<void> {
  for (let i = 0; i < leads.length; i += per) {
    const body = leadgenNotification(leads.slice(i, i + per), i === 0 ? other : []);
    const res = await deliver(metaCase, body, await metaCase.sign(body, { secret: metaCase.secret, nowSeconds: 0 }));
    expect(res.status).toBe(200);
  }
}

const leadLines = (ids: ReadonlySet<string>, source = "meta") => rawLinesOf(source, ids, `raw/source=${source}/stream=leads/`);

const waitForLines = (ids: ReadonlySet<string>, count: number) => pollLines(() => leadLines(ids), count, 60_000, 200);

const marks = (ids: readonly string[]) => objectMarks("meta", ids, "leads");

const ledger = (source: string) => ledgerOfDay(source, day.from);

describe("Meta record-level reconciliation (leads of the configured lead forms)", () => {
  it("given a few thousand leadgen webhooks with 5% of leads lost and one whole notification lost, when the reconcile job runs, then every lead is held, once, and the ledger says so; a late webhook lands nothing", async () => {
    clearTokenCache();
    const start = Math.floor((today - DAY_MS) / 1000) + 3 * 3600;
    const leads = someLeads(2400, 880_000_000_000, (i) => start + i * 29);
    // Leads of the day before and of today are listed too (Graph lists a form in full): outside the window.
    const outside = [
      ...someLeads(30, 881_000_000_000, (i) => start - 4 * 3600 - i * 60),
      ...someLeads(30, 882_000_000_000, (i) => Math.floor(today / 1000) + 60 + i),
    ];
    const rng = seeded(23);
    const lost = new Set(leads.filter(() => rng() < 0.05));
    // A whole notification lost (Meta gave up retrying it): 20 leads of one batch.
    const batchLost = leads.slice(1000, 1020);
    for (const l of batchLost) lost.add(l);
    const delivered = leads.filter((l) => !lost.has(l));
    expect(lost.size).toBeGreaterThan(120);

    const ids = new Set(leads.map((l) => l.id));
    // The first notification also carries a feed change in the same entry: kept whole under `page`, its lead under `leads`.
    const feed = { field: "feed", value: { item: "post", verb: "add", post_id: "102030405060708_1" } };
    await postLeads(delivered, 20, [feed]);
    // Meta retries a notification it thinks failed: the same bytes again land nothing.
    await postLeads(delivered.slice(0, 20), 20, [feed]);
    await waitForLines(ids, delivered.length);
    const pageLines = (await readEnvelopes("raw/source=meta/stream=page/")).filter((e) =>
      JSON.stringify(e.data).includes("102030405060708_1"),
    );
    expect(pageLines).toHaveLength(1);

    const api = graphLeadsApi(API, TOKEN, () => [...leads, ...outside]);
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const ingest = recordingQueue();
    await runReconcileJob(metaEnv({ INGEST: ingest }), "meta", day);
    fetchSpy.mockRestore();

    expect(api.violations).toEqual([]);
    // Base-URL override honoured; every configured form listed, each page through Graph's `after` cursor.
    expect(new Set(api.calls.map((c) => c.origin))).toEqual(new Set([API]));
    expect([...new Set(api.calls.map((c) => c.pathname))]).toEqual(FORMS.map((f) => `/${f}/leads`));
    expect(api.calls.filter((c) => c.searchParams.has("after")).length).toBeGreaterThan(20);
    expect(await sourceState("meta")).toMatchObject({ last_status: "succeeded", reconciled_to: day.to });

    await writeRaw(ingest.take());
    const lines = await leadLines(ids);
    // 0 duplicates after _dock.id; the recovered ones are the leads as Graph lists them.
    expect(new Set(lines.map((l) => l._dock.id)).size).toBe(lines.length);
    expect(lines).toHaveLength(leads.length);
    const recovered = lines.filter((l) => l._dock.pattern === "reconcile");
    expect(recovered.map((l) => l._dock.key as string).sort()).toEqual([...lost].map((l) => l.id).sort());
    const one = recovered[0];
    const lead = leads.find((l) => l.id === one?._dock.key) as Lead;
    expect(one?.data).toMatchObject({ id: lead.id, created_time: graphTime(lead.createdTime), form_id: lead.formId });
    expect(metaVersionTime(one?._dock.version as string, lead.id)).toBe(lead.createdTime * 1000);
    // Every lead is held at its one version.
    const held = await marks([...ids]);
    for (const l of leads) expect(held.get(l.id)?.version_ms, l.id).toBe(l.createdTime * 1000);

    expect(await ledger("meta")).toMatchObject({
      unit: "record",
      expected: leads.length,
      received: delivered.length,
      recovered: lost.size,
      missing: 0,
      status: "complete",
    });

    // A lost notification arriving now describes what reconciliation already holds: nothing new lands.
    // It travels with a lead nobody has seen yet (same notification), which must land.
    const fresh = someLeads(1, 889_000_000_000, () => (batchLost[0] as Lead).createdTime + 1)[0] as Lead;
    await postLeads([...batchLost, fresh], 40);
    await waitForLines(new Set([fresh.id]), 1);
    expect(await leadLines(ids)).toHaveLength(lines.length);
  });

  it("given a listing that fails midway, when reconciliation runs, then the window stays unreconciled and the next run asks for it again and completes it", async () => {
    clearTokenCache();
    const source = defineSource({ ...metaSource, name: "meta_midway" });
    const start = Math.floor((today - DAY_MS) / 1000) + 3600;
    const leads = someLeads(900, 883_000_000_000, (i) => start + i * 60);
    const clock = { now: () => today + 3_600_000, sleep: async () => {} };
    const ingest = recordingQueue();
    const runEnv = metaEnv({ INGEST: ingest, META_MIDWAY_API_BASE: API });

    const failing = graphLeadsApi(API, TOKEN, () => leads, { failOnCall: 5 });
    const first = await reconcileStepWith(failing, runEnv, source, clock);
    expect(failing.violations).toEqual([]);
    expect(first).toMatchObject({ status: "failed", unit: "record" });
    expect(first.error).toMatch(/page 5 of the listing/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
    expect(await ledger(source.name)).toBeNull();

    const api = graphLeadsApi(API, TOKEN, () => leads);
    const second = await reconcileStepWith(api, runEnv, source, clock);
    expect(api.violations).toEqual([]);
    // The same window again: nothing was held (this copy of the source tracks no marks), so all are recovered.
    expect(second).toMatchObject({ status: "succeeded", window: first.window, listed: 900, held: 0, recovered: 900, missing: 0 });
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: first.window?.to, last_status: "succeeded" });
    await writeRaw(ingest.take());
    expect(await readLines(`raw/source=${source.name}/`)).toHaveLength(900);
  });
});
