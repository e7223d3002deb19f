import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { openGate } from "../../src/pollers/rate-gate";
import { runReconcileStep } from "../../src/reconcile/run-reconcile";
import { defineSource } from "../../src/sources/define-source";
import { zendesk as zendeskSource } from "../../src/sources/zendesk";
import { zendeskVersionTime } from "../../src/sources/zendesk/reconcile";
import { cursorExportPage } from "../../src/sources/zendesk/fixtures";
import { readLines } from "../helpers/raw-zone";
import { landed, pollEnv, run } from "../sources/support";
import { zendesk as zendeskCase } from "../webhooks/cases";
import { deliver, nowSeconds } from "../webhooks/support";
import { recordingQueue, reconcileEnv, sourceState, writeRaw } from "./helpers";
import { ledgerOfDay, objectMarks, pollLines, rawLinesOf, runReconcileJob } from "./record-level";
import {
  type AccountObject,
  accountObjects,
  eventsOf,
  listedAt,
  objectText,
  seeded,
  type ZendeskEvent,
  zendeskExportApi,
} from "./zendesk-fixtures";

const API = "https://zendesk-fake.example";
const AUTH = { email: "ops@acme.test", token: "zd-reconcile-test-token" };
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Yesterday, whole: the window every test reconciles, so the day can be complete. */
const day = { from: new Date(today - DAY_MS).toISOString(), to: new Date(today).toISOString() };
const zendeskEnv = (over: Record<string, unknown> = {}) =>
  reconcileEnv({ ZENDESK_API_BASE: API, ZENDESK_EMAIL: AUTH.email, ZENDESK_API_TOKEN: AUTH.token, RATE_FRACTION: "1", ...over });

vi.setConfig({ testTimeout: 240_000 });
afterEach(() => vi.restoreAllMocks());

/** Posts each event to /webhooks/zendesk as Zendesk does: one JSON envelope per request, signed. */
async function postWebhooks(events: readonly ZendeskEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 20) {
    const results = await Promise.all(
      events.slice(i, i + 20).map(async (e) => {
        const body = JSON.stringify(e);
        return deliver(zendeskCase, body, await zendeskCase.sign(body, { secret: zendeskCase.secret, nowSeconds: nowSeconds() }));
      }),
    );
    for (const res of results) expect(res.status).toBe(200);
  }
}

/** The raw zone's Zendesk lines of these objects (ids are unique across the three kinds here). */
const linesOf = (ids: ReadonlySet<string>) => rawLinesOf("zendesk", ids);

const waitForLines = (ids: ReadonlySet<string>, count: number) => pollLines(() => linesOf(ids), count, 120_000, 250);

const marks = (ids: readonly string[]) => objectMarks("zendesk", ids);

const ledger = (source: string) => ledgerOfDay(source, day.from);

describe("Zendesk record-level reconciliation (time-based incremental exports)", () => {
  it("given a few thousand event webhooks with 5% lost and one user's second change lost, when the reconcile job runs, then every ticket, user and organization is held at its newest version, once, and the ledger says so; a late webhook lands nothing", async () => {
    const start = today - DAY_MS + 2 * 3_600_000;
    const objects: AccountObject[] = accountObjects(2400, 910_000_000, (i) => start + i * 20_000);
    const twice = objects.find((o) => o.kind === "users") as AccountObject;
    twice.changes.push(start + 21 * 3_600_000);
    const deletedOrg = objects.find((o) => o.kind === "organizations") as AccountObject;
    deletedOrg.deletedAt = start + 20 * 3_600_000;
    // Changed after the window: listed by the export, not asked about.
    const later = accountObjects(6, 919_000_000, (i) => today + 600_000 + i * 1000);

    const all = eventsOf(objects);
    const rng = seeded(23);
    const lost = new Set<ZendeskEvent>();
    for (const e of all) if (rng() < 0.05) lost.add(e.event);
    const firstChange = all.find((e) => e.object === twice && e.event.type.endsWith(".created"))?.event;
    const secondChange = all.find((e) => e.object === twice && e.event.type.endsWith(".name_changed"))?.event as ZendeskEvent;
    const orgDeletion = all.find((e) => e.object === deletedOrg && e.event.type.endsWith(".deleted"))?.event as ZendeskEvent;
    if (firstChange) lost.delete(firstChange);
    lost.add(secondChange);
    lost.add(orgDeletion);
    const delivered = all.filter((e) => !lost.has(e.event)).map((e) => e.event);
    expect(all.length).toBeGreaterThan(2400);
    expect(lost.size).toBeGreaterThan(90);

    const ids = new Set(objects.map((o) => o.id));
    await postWebhooks(delivered);
    await waitForLines(ids, delivered.length);

    // What the account would report as not held: objects whose newest change (or deletion) came by no webhook.
    const newestDelivered = new Map<string, number>();
    for (const e of delivered) {
      const id = String(e.detail.id);
      newestDelivered.set(id, Math.max(newestDelivered.get(id) ?? 0, Date.parse(e.time)));
    }
    const notHeld = objects.filter((o) => (newestDelivered.get(o.id) ?? -1) < listedAt(o));
    expect(notHeld.map((o) => o.id)).toEqual(expect.arrayContaining([twice.id, deletedOrg.id]));
    expect(new Set(notHeld.map((o) => o.kind))).toEqual(new Set(["tickets", "users", "organizations"]));

    const api = zendeskExportApi(API, AUTH, () => [...objects, ...later]);
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const ingest = recordingQueue();
    await runReconcileJob(zendeskEnv({ INGEST: ingest }), "zendesk", day);
    fetchSpy.mockRestore();

    expect(api.violations).toEqual([]);
    // Base-URL override honoured; each export asked from the window's start, in epoch seconds.
    expect(new Set(api.calls.map((c) => c.origin))).toEqual(new Set([API]));
    expect(api.calls.map((c) => [c.pathname, c.searchParams.get("start_time")])).toEqual(
      ["tickets", "users", "organizations"].map((r) => [`/api/v2/incremental/${r}.json`, String((today - DAY_MS) / 1000)]),
    );
    expect(await sourceState("zendesk")).toMatchObject({ last_status: "succeeded", reconciled_to: day.to });

    await writeRaw(ingest.take());
    const lines = await linesOf(ids);
    // 0 duplicates after _dock.id; what was recovered is the object as the export lists it.
    expect(new Set(lines.map((l) => l._dock.id)).size).toBe(lines.length);
    const recovered = lines.filter((l) => l._dock.pattern === "reconcile");
    expect(recovered.map((l) => l._dock.key as string).sort()).toEqual(notHeld.map((o) => o.id).sort());
    expect(recovered.find((l) => l._dock.key === deletedOrg.id)).toMatchObject({ _dock: { stream: "organizations", op: "delete" } });
    expect(recovered.find((l) => l._dock.key === twice.id)?._dock.stream).toBe("users");
    expect(zendeskVersionTime(recovered.find((l) => l._dock.key === twice.id)?._dock.version as string, twice.id)).toBe(twice.changes[1]);
    expect((await linesOf(new Set(later.map((o) => o.id)))).length).toBe(0);
    // Every object is held, under its own stream, at its newest version.
    const held = await marks([...ids]);
    for (const o of objects) {
      expect(held.get(o.id)?.stream, o.id).toBe(o.kind);
      expect(held.get(o.id)?.version_ms, o.id).toBeGreaterThanOrEqual(listedAt(o));
    }

    expect(await ledger("zendesk")).toMatchObject({
      unit: "record",
      expected: objects.length,
      received: objects.length - notHeld.length,
      recovered: notHeld.length,
      missing: 0,
      status: "complete",
    });

    // The lost second change arrives now: reconciliation already holds that version, nothing new lands.
    // A change nobody has seen yet, delivered with it, must land.
    const fresh: ZendeskEvent = {
      ...secondChange,
      id: "2b24ef10-19d4-4740-93cf-fffffffffff1",
      detail: { ...secondChange.detail, id: "919999999" },
    };
    await postWebhooks([secondChange, fresh]);
    await waitForLines(new Set(["919999999"]), 1);
    expect((await linesOf(ids)).length).toBe(lines.length);
  });

  it("given an export that fails midway, when reconciliation runs, then the window stays unreconciled and the next run asks for it again and completes it", async () => {
    const source = defineSource({ ...zendeskSource, name: "zendesk_midway" });
    const start = today - DAY_MS + 3_600_000;
    // 1,500 tickets: two pages of the ticket export, then users and organizations (empty).
    const objects = accountObjects(1500, 920_000_000, (i) => start + i * 30_000, ["tickets"]);
    const clock = { now: () => today + 3_600_000, sleep: async () => {} };
    const ingest = recordingQueue();
    const runEnv = zendeskEnv({ INGEST: ingest });

    const failing = zendeskExportApi(API, AUTH, () => objects, { failOnCall: 2 });
    vi.spyOn(globalThis, "fetch").mockImplementation(failing.handle as typeof fetch);
    const first = await runReconcileStep(runEnv, source, { kind: "reconcile", source: source.name }, { clock, gate: openGate });
    vi.restoreAllMocks();
    expect(failing.violations).toEqual([]);
    expect(first).toMatchObject({ status: "failed", unit: "record" });
    expect(first.error).toMatch(/page 2 of the listing/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
    expect(await ledger(source.name)).toBeNull();

    const api = zendeskExportApi(API, AUTH, () => objects);
    vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const second = await runReconcileStep(runEnv, source, { kind: "reconcile", source: source.name }, { clock, gate: openGate });
    vi.restoreAllMocks();
    expect(api.violations).toEqual([]);
    // The second ticket page starts at the first one's end_time (the export's own paging).
    expect(api.calls[1]?.searchParams.get("start_time")).toBe(String(listedAt(objects[999] as AccountObject) / 1000));
    // The same window again: nothing was held (this copy of the source tracks no marks), so all are recovered.
    expect(second).toMatchObject({ status: "succeeded", window: first.window, listed: 1500, held: 0, recovered: 1500, missing: 0 });
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: first.window?.to, last_status: "succeeded" });
    await writeRaw(ingest.take());
    const lines = await readLines(`raw/source=${source.name}/`);
    expect(lines).toHaveLength(1500);
  });
  it("given tickets, users and organizations polled through the cursor-based exports, when reconciliation lists the same states through the time-based exports, then each carries the poll's _dock.id and lands once", async () => {
    const source = defineSource({ ...zendeskSource, name: "zendesk_identity" });
    const objects = accountObjects(3, 930_000_000, (i) => today - DAY_MS + 5 * 3_600_000 + i * 1000);
    const listing = zendeskExportApi(API, AUTH, () => objects);
    const polled: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation((async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const cursor = /^\/api\/v2\/incremental\/(tickets|users)\/cursor\.json$/.exec(url.pathname);
      if (!cursor) return listing.handle(input, init);
      polled.push(url.pathname);
      const items = objects.filter((o) => o.kind === cursor[1]).map((o) => ({ text: () => objectText(o) }));
      return new Response(cursorExportPage(cursor[1] as string, items, "c-end", true), { headers: { "content-type": "application/json" } });
    }) as typeof fetch);
    const penv = pollEnv({ ZENDESK_API_BASE: API, ZENDESK_EMAIL: AUTH.email, ZENDESK_API_TOKEN: AUTH.token } as never);
    for (const stream of ["tickets", "users", "organizations"])
      expect(await run(penv, source, stream)).toMatchObject({ status: "succeeded" });
    const byPoll = await landed(penv, source);
    expect(byPoll).toHaveLength(3);

    const clock = { now: () => today + 3_600_000, sleep: async () => {} };
    const out = await runReconcileStep(
      { ...env, ...penv } as never,
      source,
      { kind: "reconcile", source: source.name },
      { clock, gate: openGate },
    );
    vi.restoreAllMocks();
    expect(listing.violations).toEqual([]);
    expect(polled).toEqual(["/api/v2/incremental/tickets/cursor.json", "/api/v2/incremental/users/cursor.json"]);
    // This copy of the source tracks no marks: all three are sent again, as the poll sent them.
    expect(out).toMatchObject({ status: "succeeded", listed: 3, recovered: 3 });
    const sent = penv.INGEST.messages.length;
    expect(sent).toBeGreaterThan(0);
    const lines = await landed(penv, source);
    expect(lines.map((l) => l._dock.id).sort()).toEqual(byPoll.map((l) => l._dock.id).sort());
    expect(lines.every((l) => l._dock.pattern === "poll")).toBe(true);
  });
});
