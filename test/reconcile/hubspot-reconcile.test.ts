import { afterEach, describe, expect, it, vi } from "vitest";
import { defineSource } from "../../src/sources/define-source";
import { hubspot as hubspotSource } from "../../src/sources/hubspot";
import { hubspotVersionTime } from "../../src/sources/hubspot/reconcile";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { readLines } from "../helpers/raw-zone";
import { hubspot as hubspotCase } from "../webhooks/cases";
import { deliver, nowSeconds } from "../webhooks/support";
import { recordingQueue, reconcileEnv, sourceState, writeRaw } from "./helpers";
import { adminReconcile, ledgerOfDay, objectMarks, pollLines, rawLinesOf, reconcileStepWith, runReconcileJob } from "./record-level";
import { eventsOf, type HubspotEvent, hubspotCrmApi, listedAt, type PortalObject, portalObjects, seeded } from "./hubspot-fixtures";

const API = "https://hubspot-fake.example";
const TOKEN = "pat-na1-reconcile-test-token";
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Yesterday, whole: the window every test reconciles, so the day can be complete. */
const day = { from: new Date(today - DAY_MS).toISOString(), to: new Date(today).toISOString() };
const hubspotEnv = (over: Record<string, unknown> = {}) => reconcileEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_BASE: API, ...over });

vi.setConfig({ testTimeout: 180_000 });
afterEach(() => vi.restoreAllMocks());

/** Posts events to /webhooks/hubspot as HubSpot does: JSON arrays of up to 100, signed with v3. */
async function postWebhooks(events: readonly HubspotEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 100) {
    const body = JSON.stringify(events.slice(i, i + 100));
    const res = await deliver(hubspotCase, body, await hubspotCase.sign(body, { secret: hubspotCase.secret, nowSeconds: nowSeconds() }));
    expect(res.status).toBe(200);
  }
}

/** The raw zone's HubSpot lines of these objects. */
const linesOf = (ids: ReadonlySet<string>) => rawLinesOf("hubspot", ids);

const waitForLines = (ids: ReadonlySet<string>, count: number) => pollLines(() => linesOf(ids), count, 60_000, 200);

const marks = (source: string, ids: readonly string[]) => objectMarks(source, ids);

const ledger = (source: string) => ledgerOfDay(source, day.from);

describe("HubSpot record-level reconciliation (CRM search + archived lists)", () => {
  it("given a few thousand webhooks with 5% lost and one object's second change lost, when the reconcile job runs, then every object is held at its newest version, once, and the ledger says so; a late webhook lands nothing", async () => {
    clearTokenCache();
    const start = today - DAY_MS + 3 * 3_600_000;
    const objects: PortalObject[] = portalObjects(2400, 710_000_000, (i) => start + i * 7_000 + (i % 13));
    // One contact changed twice; a deal and a ticket archived (deletion webhooks).
    const twice = objects[0] as PortalObject;
    twice.changes.push({ at: start + 20 * 3_600_000, property: "lifecyclestage", value: "customer" });
    const archivedDeal = objects.find((o) => o.type === "deals") as PortalObject;
    archivedDeal.archivedAt = start + 19 * 3_600_000;
    const archivedTicket = objects.find((o) => o.type === "tickets") as PortalObject;
    archivedTicket.archivedAt = start + 19 * 3_600_000 + 5;

    const all = eventsOf(objects);
    const rng = seeded(17);
    const lost = new Set<HubspotEvent>();
    for (const e of all) if (rng() < 0.05) lost.add(e.event);
    const secondChange = all.find((e) => e.object === twice && e.event.occurredAt === twice.changes[1]?.at)?.event as HubspotEvent;
    const dealDeletion = all.find((e) => e.object === archivedDeal && e.event.subscriptionType === "deal.deletion")?.event as HubspotEvent;
    const firstChange = all.find((e) => e.object === twice && e.event.occurredAt === twice.changes[0]?.at)?.event as HubspotEvent;
    lost.add(secondChange);
    lost.add(dealDeletion);
    lost.delete(firstChange);
    for (const e of all) if (e.object === archivedTicket) lost.delete(e.event);
    const delivered = all.filter((e) => !lost.has(e.event)).map((e) => e.event);
    expect(all.length).toBeGreaterThan(2400);
    expect(lost.size).toBeGreaterThan(90);

    const ids = new Set(objects.map((o) => o.id));
    await postWebhooks(delivered);
    await waitForLines(ids, delivered.length);

    // What the portal would report as not held: objects whose newest change (or archival) came by no webhook.
    const newestDelivered = new Map<string, number>();
    for (const e of delivered)
      newestDelivered.set(String(e.objectId), Math.max(newestDelivered.get(String(e.objectId)) ?? 0, e.occurredAt));
    const notHeld = objects.filter((o) => (newestDelivered.get(o.id) ?? -1) < listedAt(o));
    expect(notHeld.map((o) => o.id)).toEqual(expect.arrayContaining([twice.id, archivedDeal.id]));
    expect(notHeld.map((o) => o.id)).not.toContain(archivedTicket.id);

    const api = hubspotCrmApi(API, TOKEN, () => objects);
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const ingest = recordingQueue();
    const jobsEnv = hubspotEnv({ INGEST: ingest });
    await runReconcileJob(jobsEnv, "hubspot", day);
    fetchSpy.mockRestore();

    expect(api.violations).toEqual([]);
    // Base-URL override honoured; each type searched by its modified-date property, and archived lists read.
    expect(new Set(api.calls.map((c) => c.url.origin))).toEqual(new Set([API]));
    expect(api.calls.filter((c) => c.url.searchParams.get("archived") === "true").map((c) => c.url.pathname)).toEqual(
      expect.arrayContaining(["/crm/v3/objects/contacts", "/crm/v3/objects/companies", "/crm/v3/objects/deals", "/crm/v3/objects/tickets"]),
    );
    const state = await sourceState("hubspot");
    expect(state).toMatchObject({ last_status: "succeeded", reconciled_to: day.to });

    await writeRaw(ingest.take());
    const lines = await linesOf(ids);
    // 0 duplicates after _dock.id, and the recovered ones are poll-shaped (the object, not an event).
    expect(new Set(lines.map((l) => l._dock.id)).size).toBe(lines.length);
    const recovered = lines.filter((l) => l._dock.pattern === "reconcile");
    expect(recovered.map((l) => l._dock.key as string).sort()).toEqual(notHeld.map((o) => o.id).sort());
    expect(recovered.find((l) => l._dock.key === archivedDeal.id)?._dock.op).toBe("delete");
    // Every object is held at its newest version.
    const held = await marks("hubspot", [...ids]);
    for (const o of objects) expect(held.get(o.id)?.version_ms, o.id).toBeGreaterThanOrEqual(listedAt(o));
    expect(hubspotVersionTime(recovered.find((l) => l._dock.key === twice.id)?._dock.version as string, twice.id)).toBe(
      twice.changes[1]?.at,
    );

    // The ledger: listed = objects, held = those whose newest change came by webhook, recovered = the rest.
    expect(await ledger("hubspot")).toMatchObject({
      unit: "record",
      expected: objects.length,
      received: objects.length - notHeld.length,
      recovered: notHeld.length,
      missing: 0,
      status: "complete",
    });

    // A lost webhook arriving now describes what reconciliation already holds: nothing new lands.
    // It travels with a change nobody has seen yet (same body, same INGEST message), which must land.
    const fresh = { ...secondChange, eventId: 999_999_001, objectId: 719_999_999, occurredAt: secondChange.occurredAt + 1 };
    await postWebhooks([secondChange, fresh]);
    await waitForLines(new Set([String(fresh.objectId)]), 1);
    expect((await linesOf(ids)).length).toBe(lines.length);
  });

  it("given an operator's window, when POST /admin/sources/hubspot/reconcile asks to wait, then it answers with how many objects were listed, held and recovered", async () => {
    clearTokenCache();
    const twoDaysAgo = today - 2 * DAY_MS;
    const objects = portalObjects(40, 730_000_000, (i) => twoDaysAgo + 5 * 3_600_000 + i * 1000);
    await postWebhooks(eventsOf(objects.slice(0, 30)).map((e) => e.event));
    await waitForLines(new Set(objects.slice(0, 30).map((o) => o.id)), 30);

    const api = hubspotCrmApi(API, TOKEN, () => objects);
    const res = await adminReconcile(
      "hubspot",
      { from: new Date(twoDaysAgo).toISOString(), to: new Date(twoDaysAgo + DAY_MS).toISOString() },
      api,
      { HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_API_BASE: API },
    );
    expect(api.violations).toEqual([]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "succeeded", unit: "record", listed: 40, held: 30, recovered: 10, missing: 0 });
  });

  it("given a listing that fails midway, when reconciliation runs, then the window stays unreconciled and the next run asks for it again and completes it", async () => {
    clearTokenCache();
    const source = defineSource({ ...hubspotSource, name: "hubspot_midway" });
    const start = today - DAY_MS + 3_600_000;
    const objects = portalObjects(900, 720_000_000, (i) => start + i * 60_000);
    const nowMs = today + 3_600_000;
    const clock = { now: () => nowMs, sleep: async () => {} };
    const ingest = recordingQueue();
    const runEnv = hubspotEnv({ INGEST: ingest });

    const failing = hubspotCrmApi(API, TOKEN, () => objects, { failOnCall: 3 });
    const first = await reconcileStepWith(failing, runEnv, source, clock);
    expect(first).toMatchObject({ status: "failed", unit: "record" });
    expect(first.error).toMatch(/page 3 of the listing/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
    expect(await ledger(source.name)).toBeNull();

    const api = hubspotCrmApi(API, TOKEN, () => objects);
    const second = await reconcileStepWith(api, runEnv, source, clock);
    expect(api.violations).toEqual([]);
    // The same window again: nothing was held (this copy of the source tracks no marks), so all are recovered.
    expect(second).toMatchObject({ status: "succeeded", window: first.window, listed: 900, held: 0, recovered: 900, missing: 0 });
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: first.window?.to, last_status: "succeeded" });
    await writeRaw(ingest.take());
    const lines = await readLines(`raw/source=${source.name}/`);
    expect(lines).toHaveLength(900);
  });
});
