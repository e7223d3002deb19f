import { afterEach, describe, expect, it, vi } from "vitest";
import { defineSource } from "../../src/sources/define-source";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { salesforce as salesforceSource } from "../../src/sources/salesforce";
import { salesforceVersionTime } from "../../src/sources/salesforce/reconcile";
import { readLines } from "../helpers/raw-zone";
import { salesforce as salesforceCase } from "../webhooks/cases";
import { deliver, nowSeconds } from "../webhooks/support";
import { recordingQueue, reconcileEnv, sourceState, writeRaw } from "./helpers";
import { ledgerOfDay, objectMarks, pollLines, rawLinesOf, reconcileStepWith, runReconcileJob } from "./record-level";
import {
  listedAt,
  type Notification,
  notificationsOf,
  OBJECT_TYPES,
  type OrgRecord,
  orgRecords,
  outboundMessage,
  salesforceOrgApi,
  seeded,
} from "./salesforce-fixtures";

const API = "https://salesforce-fake.example";
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Yesterday, whole: the window every test reconciles, so the day can be complete. */
const day = { from: new Date(today - DAY_MS).toISOString(), to: new Date(today).toISOString() };
const salesforceEnv = (over: Record<string, unknown> = {}) =>
  reconcileEnv({
    SALESFORCE_INSTANCE_URL: "https://acme.my.salesforce.com",
    SALESFORCE_API_BASE: API,
    SALESFORCE_LOGIN_URL: `${API}/login`,
    SALESFORCE_CLIENT_ID: "3MVG9-reconcile",
    SALESFORCE_REFRESH_TOKEN: "5Aep861-reconcile",
    ...over,
  });

vi.setConfig({ testTimeout: 180_000 });
afterEach(() => vi.restoreAllMocks());

/** Posts notifications to /webhooks/salesforce as Salesforce does: one message per object type, up to 100 each. */
async function postMessages(notifications: readonly Notification[]): Promise<void> {
  for (const type of OBJECT_TYPES) {
    const ofType = notifications.filter((n) => n.record.type === type);
    for (let i = 0; i < ofType.length; i += 100) {
      const body = outboundMessage(ofType.slice(i, i + 100));
      const res = await deliver(
        salesforceCase,
        body,
        await salesforceCase.sign(body, { secret: salesforceCase.secret, nowSeconds: nowSeconds() }),
      );
      expect(res.status).toBe(200);
    }
  }
}

const linesOf = (ids: ReadonlySet<string>) => rawLinesOf("salesforce", ids);

const waitForLines = (ids: ReadonlySet<string>, count: number) => pollLines(() => linesOf(ids), count, 60_000, 200);

const marks = (ids: readonly string[]) => objectMarks("salesforce", ids);

const ledger = (source: string) => ledgerOfDay(source, day.from);

describe("Salesforce record-level reconciliation (queryAll by SystemModstamp)", () => {
  it("given a few thousand outbound-message notifications with 5% lost, one record's second change lost and one record deleted, when the reconcile job runs, then every record is held at its newest SystemModstamp, once, and the ledger says so; a late notification lands nothing", async () => {
    clearTokenCache();
    const start = today - DAY_MS + 2 * 3_600_000;
    const records: OrgRecord[] = orgRecords(2400, "RC", (i) => start + i * 7_000 + (i % 11));
    const twice = records[0] as OrgRecord;
    twice.changes.push(start + 20 * 3_600_000);
    const deleted = records[5] as OrgRecord;
    deleted.deletedAt = start + 19 * 3_600_000;
    // Changed after the window: listed by queryAll, not asked about (the listing stops past the window's end).
    const later = orgRecords(8, "LT", (i) => today + 60_000 + i * 1_000);

    const all = notificationsOf([...records, ...later]);
    const rng = seeded(23);
    const lost = new Set<Notification>();
    for (const n of all) if (rng() < 0.05) lost.add(n);
    const secondChange = all.find((n) => n.record === twice && n.change === 1) as Notification;
    lost.add(secondChange);
    lost.delete(all.find((n) => n.record === twice && n.change === 0) as Notification);
    const delivered = all.filter((n) => !lost.has(n));
    expect(all.length).toBeGreaterThan(2400);
    expect(lost.size).toBeGreaterThan(90);

    const ids = new Set(records.map((r) => r.id));
    await postMessages(delivered);
    await waitForLines(ids, delivered.filter((n) => ids.has(n.record.id)).length);

    // Not held: records whose listed state (last change, or deletion) came by no notification.
    const newestDelivered = new Map<string, number>();
    for (const n of delivered)
      newestDelivered.set(n.record.id, Math.max(newestDelivered.get(n.record.id) ?? 0, n.record.changes[n.change] as number));
    const notHeld = records.filter((r) => (newestDelivered.get(r.id) ?? -1) < listedAt(r));
    expect(notHeld.map((r) => r.id)).toEqual(expect.arrayContaining([twice.id, deleted.id]));
    expect(notHeld.length).toBeGreaterThan(90);

    const api = salesforceOrgApi(API, () => [...records, ...later], { batch: 250 });
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const ingest = recordingQueue();
    await runReconcileJob(salesforceEnv({ INGEST: ingest }), "salesforce", day);
    fetchSpy.mockRestore();

    expect(api.violations).toEqual([]);
    // Through the base-URL override; each object asked from the window's start (minus the poll's 5-minute lookback).
    expect(new Set(api.calls.map((c) => c.origin))).toEqual(new Set([API]));
    const since = new Date(Date.parse(day.from) - 5 * 60_000).toISOString().slice(0, 19);
    expect(api.soql).toEqual(
      OBJECT_TYPES.map(
        (t) => `SELECT Id, Name, IsDeleted, SystemModstamp FROM ${t} WHERE SystemModstamp >= ${since}Z ORDER BY SystemModstamp, Id`,
      ),
    );
    expect(api.calls.some((c) => /\/query\/01gRC\d+-\d+$/.test(c.pathname))).toBe(true);
    expect(await sourceState("salesforce")).toMatchObject({ last_status: "succeeded", reconciled_to: day.to });

    await writeRaw(ingest.take());
    const lines = await linesOf(ids);
    expect(new Set(lines.map((l) => l._dock.id)).size).toBe(lines.length);
    const recovered = lines.filter((l) => l._dock.pattern === "reconcile");
    expect(recovered.map((l) => l._dock.key as string).sort()).toEqual(notHeld.map((r) => r.id).sort());
    expect(recovered.find((l) => l._dock.key === deleted.id)?._dock.op).toBe("delete");
    expect(recovered.find((l) => l._dock.key === twice.id)).toMatchObject({
      _dock: { stream: "account" },
      data: { Name: `Account ${twice.id} v2 & co` },
    });
    // Every record is held at its newest version (webhook `<notification>@<SystemModstamp>` or listed `<SystemModstamp>|<digest>`).
    const held = await marks([...ids]);
    for (const r of records) expect(held.get(r.id)?.version_ms, r.id).toBeGreaterThanOrEqual(listedAt(r));
    expect(held.get(twice.id)).toMatchObject({ stream: "account", version_ms: twice.changes[1], pattern: "reconcile" });
    expect(salesforceVersionTime(recovered.find((l) => l._dock.key === twice.id)?._dock.version as string)).toBe(twice.changes[1]);

    expect(await ledger("salesforce")).toMatchObject({
      unit: "record",
      expected: records.length,
      received: records.length - notHeld.length,
      recovered: notHeld.length,
      missing: 0,
      status: "complete",
    });

    // The lost notification arriving now describes what reconciliation already holds: nothing new lands.
    // A change nobody has seen travels in the same message and must land.
    const fresh: OrgRecord = { type: "Account", id: "001RCFRESH00000001", changes: [twice.changes[1] as number] };
    await postMessages([secondChange, { id: "04l999999999999NTF", record: fresh, change: 0 }]);
    await waitForLines(new Set([fresh.id]), 1);
    expect((await linesOf(ids)).length).toBe(lines.length);
  });

  it("given a listing that fails midway, when reconciliation runs, then the window stays unreconciled and the next run asks for it again and completes it", async () => {
    clearTokenCache();
    const source = defineSource({ ...salesforceSource, name: "salesforce_midway" });
    const start = today - DAY_MS + 3_600_000;
    const records = orgRecords(900, "MW", (i) => start + i * 60_000);
    const nowMs = today + 3_600_000;
    const clock = { now: () => nowMs, sleep: async () => {} };
    const ingest = recordingQueue();
    const runEnv = salesforceEnv({ INGEST: ingest, SALESFORCE_MIDWAY_API_BASE: API });

    // Account: describe + 1 page; Contact: describe, then its first queryAll page fails.
    const failing = salesforceOrgApi(API, () => records, { batch: 250, failFromCall: 4 });
    const first = await reconcileStepWith(failing, runEnv, source, clock);
    expect(first).toMatchObject({ status: "failed", unit: "record" });
    expect(first.error).toMatch(/of the listing.*step \d+ of contact/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
    expect(await ledger(source.name)).toBeNull();

    clearTokenCache();
    const api = salesforceOrgApi(API, () => records, { batch: 250 });
    const second = await reconcileStepWith(api, runEnv, source, clock);
    expect(api.violations).toEqual([]);
    // The same window again: nothing was held (this copy of the source tracks no marks), so all are recovered.
    expect(second).toMatchObject({ status: "succeeded", window: first.window, listed: 900, held: 0, recovered: 900, missing: 0 });
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: first.window?.to, last_status: "succeeded" });
    await writeRaw(ingest.take());
    expect(await readLines(`raw/source=${source.name}/`)).toHaveLength(900);
  });
});
