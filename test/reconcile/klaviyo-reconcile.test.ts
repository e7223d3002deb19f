import { afterEach, describe, expect, it, vi } from "vitest";
import { seeded } from "../../src/lib/seeded";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { defineSource } from "../../src/sources/define-source";
import { klaviyo as klaviyoSource } from "../../src/sources/klaviyo";
import { klaviyoVersionTime } from "../../src/sources/klaviyo/reconcile";
import { readLines } from "../helpers/raw-zone";
import { klaviyo as klaviyoCase, WEBHOOK_ID } from "../webhooks/cases";
import { deliver, nowSeconds } from "../webhooks/support";
import { recordingQueue, reconcileEnv, sourceState, writeRaw } from "./helpers";
import { adminReconcile, ledgerOfDay, objectMarks, pollLines, rawLinesOf, reconcileStepWith, runReconcileJob } from "./record-level";
import { type AccountEvent, type AccountProfile, klaviyoApi, lastUpdate, webhookBody } from "./klaviyo-fixtures";

const API = "https://klaviyo-fake.example";
const KEY = "pk_reconcile_0123456789abcdef";
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Yesterday, whole: the window every test reconciles, so the day can be complete. */
const day = { from: new Date(today - DAY_MS).toISOString(), to: new Date(today).toISOString() };
const klaviyoEnv = (over: Record<string, unknown> = {}) => reconcileEnv({ KLAVIYO_API_KEY: KEY, KLAVIYO_API_BASE: API, ...over });

vi.setConfig({ testTimeout: 240_000 });
afterEach(() => vi.restoreAllMocks());

/** Posts events to /webhooks/klaviyo as Klaviyo's system webhooks do: `data` arrays, signed over body + timestamp. */
async function postWebhooks(events: readonly AccountEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 50) {
    const body = webhookBody(events.slice(i, i + 50), WEBHOOK_ID);
    const res = await deliver(klaviyoCase, body, await klaviyoCase.sign(body, { secret: klaviyoCase.secret, nowSeconds: nowSeconds() }));
    expect(res.status).toBe(200);
  }
}

const linesOf = (ids: ReadonlySet<string>) => rawLinesOf("klaviyo", ids);

const waitForLines = (ids: ReadonlySet<string>, count: number) => pollLines(() => linesOf(ids), count, 90_000, 250);

const marks = async (ids: readonly string[]) => new Map([...(await objectMarks("klaviyo", ids))].map(([key, r]) => [key, r.version_ms]));

const ledger = (source: string) => ledgerOfDay(source, day.from);

const events = (n: number, tag: string, at: (i: number) => number): AccountEvent[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${tag}${String(i).padStart(6, "0")}`, at: at(i) }));

describe("Klaviyo record-level reconciliation (events by datetime, profiles by updated)", () => {
  it("given a few thousand webhook events with 5% lost, and profiles polled before one changed again, when the reconcile job runs, then every event and profile is held at its newest version, once, and the ledger says so; a late webhook lands nothing", async () => {
    const start = today - DAY_MS + 3 * 3_600_000;
    const account = {
      events: events(2000, "4sDShKQjrd", (i) => start + i * 30_000),
      profiles: Array.from({ length: 60 }, (_, i) => ({
        id: `01JRECONCILEPROFILE${String(i).padStart(7, "0")}`,
        updates: [start + i * 60_000],
      })) as AccountProfile[],
    };
    // One profile changes twice: the poll saw the first state only. Five are created after the poll.
    const twice = account.profiles[0] as AccountProfile;
    twice.updates.push(start + 20 * 3_600_000);
    const late = new Set(account.profiles.slice(55).map((p) => p.id));

    const rng = seeded(17);
    const lost = new Set(account.events.filter(() => rng() < 0.05).map((e) => e.id));
    expect(lost.size).toBeGreaterThan(70);
    const delivered = account.events.filter((e) => !lost.has(e.id));
    const ids = new Set([...account.events.map((e) => e.id), ...account.profiles.map((p) => p.id)]);
    await postWebhooks(delivered);
    await waitForLines(ids, delivered.length);

    // The profiles poll, through the real poll engine, before the second change and the late profiles.
    const polled = klaviyoApi(API, KEY, () => account, { profilesUpTo: (p) => (late.has(p.id) ? 0 : 1) });
    vi.spyOn(globalThis, "fetch").mockImplementation(polled.handle as typeof fetch);
    const pollQueue = recordingQueue();
    await runPollStep(
      klaviyoEnv({ INGEST: pollQueue }) as never,
      klaviyoSource,
      { kind: "poll", source: "klaviyo", stream: "profiles" },
      { gate: openGate, maxInlineWaitMs: 0 },
    );
    vi.restoreAllMocks();
    expect(polled.violations).toEqual([]);
    await writeRaw(pollQueue.take());
    await waitForLines(ids, delivered.length + 55);

    const api = klaviyoApi(API, KEY, () => account);
    vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const ingest = recordingQueue();
    await runReconcileJob(klaviyoEnv({ INGEST: ingest }), "klaviyo", day);
    vi.restoreAllMocks();

    expect(api.violations).toEqual([]);
    expect(new Set(api.calls.map((c) => c.origin))).toEqual(new Set([API]));
    expect(new Set(api.calls.map((c) => c.pathname))).toEqual(new Set(["/api/events", "/api/profiles"]));
    expect(api.calls.some((c) => c.searchParams.has("page[cursor]"))).toBe(true);
    expect(await sourceState("klaviyo")).toMatchObject({ last_status: "succeeded", reconciled_to: day.to });

    await writeRaw(ingest.take());
    const lines = await linesOf(ids);
    expect(new Set(lines.map((l) => l._dock.id)).size).toBe(lines.length);
    const recovered = lines.filter((l) => l._dock.pattern === "reconcile");
    const expectedRecovered = [...lost, twice.id, ...late].sort();
    expect(recovered.map((l) => l._dock.key as string).sort()).toEqual(expectedRecovered);
    // Every event's id was written once, and every profile is held at its newest `updated`.
    const eventLines = lines.filter((l) => l._dock.stream === "events");
    expect(new Set(eventLines.map((l) => l._dock.key)).size).toBe(account.events.length);
    expect(eventLines.length).toBe(account.events.length);
    const held = await marks([...ids]);
    for (const e of account.events) expect(held.get(e.id), e.id).toBe(e.at);
    for (const p of account.profiles) expect(held.get(p.id), p.id).toBe(lastUpdate(p));
    expect(klaviyoVersionTime(recovered.find((l) => l._dock.key === twice.id)?._dock.version as string, twice.id)).toBe(lastUpdate(twice));

    expect(await ledger("klaviyo")).toMatchObject({
      unit: "record",
      expected: account.events.length + account.profiles.length,
      received: account.events.length + account.profiles.length - expectedRecovered.length,
      recovered: expectedRecovered.length,
      missing: 0,
      status: "complete",
    });

    // A lost event's webhook arriving now is held (its id was written by reconciliation): nothing
    // new lands. An event nobody has seen, in the same body, must land.
    const lostEvent = account.events.find((e) => lost.has(e.id)) as AccountEvent;
    const fresh = { id: "4sDShKQjrdFRESH01", at: lostEvent.at + 1000 };
    await postWebhooks([lostEvent, fresh]);
    await waitForLines(new Set([fresh.id]), 1);
    expect((await linesOf(ids)).length).toBe(lines.length);
  });

  it("given an operator's window, when POST /admin/sources/klaviyo/reconcile asks to wait, then it answers with how many objects were listed, held and recovered", async () => {
    const twoDaysAgo = today - 2 * DAY_MS;
    const account = { events: events(40, "4sDShKQadm", (i) => twoDaysAgo + 5 * 3_600_000 + i * 1000), profiles: [] };
    await postWebhooks(account.events.slice(0, 30));
    await waitForLines(new Set(account.events.slice(0, 30).map((e) => e.id)), 30);

    const api = klaviyoApi(API, KEY, () => account);
    const res = await adminReconcile(
      "klaviyo",
      { from: new Date(twoDaysAgo).toISOString(), to: new Date(twoDaysAgo + DAY_MS).toISOString() },
      api,
      { KLAVIYO_API_KEY: KEY, KLAVIYO_API_BASE: API },
    );
    expect(api.violations).toEqual([]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "succeeded", unit: "record", listed: 40, held: 30, recovered: 10, missing: 0 });
  });

  it("given a listing that fails midway, when reconciliation runs, then the window stays unreconciled and the next run asks for it again and completes it", async () => {
    const source = defineSource({ ...klaviyoSource, name: "klaviyo_midway" });
    const start = today - DAY_MS + 3_600_000;
    const account = { events: events(900, "4sDShKQmid", (i) => start + i * 60_000), profiles: [] };
    const nowMs = today + 3_600_000;
    const clock = { now: () => nowMs, sleep: async () => {} };
    const ingest = recordingQueue();
    const runEnv = klaviyoEnv({ INGEST: ingest });

    const failing = klaviyoApi(API, KEY, () => account, { failOnCall: 3 });
    const first = await reconcileStepWith(failing, runEnv, source, clock);
    expect(first).toMatchObject({ status: "failed", unit: "record" });
    expect(first.error).toMatch(/page 3 of the listing/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
    expect(await ledger(source.name)).toBeNull();

    const api = klaviyoApi(API, KEY, () => account);
    const second = await reconcileStepWith(api, runEnv, source, clock);
    expect(api.violations).toEqual([]);
    expect(second).toMatchObject({ status: "succeeded", window: first.window, listed: 900, held: 0, recovered: 900, missing: 0 });
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: first.window?.to, last_status: "succeeded" });
    await writeRaw(ingest.take());
    expect(await readLines(`raw/source=${source.name}/`)).toHaveLength(900);
  });
});
