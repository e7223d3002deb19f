import { afterEach, describe, expect, it, vi } from "vitest";
import { seeded } from "../../src/lib/seeded";
import { resetCursor } from "../../src/pollers/cursor";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { runReconcileStep } from "../../src/reconcile/run-reconcile";
import { amplitude as amplitudeSource } from "../../src/sources/amplitude";
import { addHours, hoursBetween } from "../../src/sources/amplitude/export-hours";
import { amplitudeVersionTime } from "../../src/sources/amplitude/reconcile";
import { defineSource } from "../../src/sources/define-source";
import { readEnvelopes, readLines } from "../helpers/raw-zone";
import { amplitude as amplitudeCase } from "../webhooks/cases";
import { deliver } from "../webhooks/support";
import { asIsBody, eventOf, exportApi, type ProjectEvent, projectEvents, uploadMs, withoutUuidBody } from "./amplitude-fixtures";
import { recordingQueue, reconcileEnv, sourceState, writeRaw } from "./helpers";
import { adminReconcile, ledgerOfDay, objectMarks, pollLines, rawLinesOf, runReconcileJob } from "./record-level";

const API = "https://amplitude-fake.example";
const KEY = "amp-reconcile-key";
const SECRET = "amp-reconcile-secret";
const BASIC = `Basic ${btoa(`${KEY}:${SECRET}`)}`;
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Yesterday, whole: the window every test reconciles, so the day can be complete. */
const day = { from: new Date(today - DAY_MS).toISOString(), to: new Date(today).toISOString() };
const ampEnv = (over: Record<string, unknown> = {}) =>
  reconcileEnv({ AMPLITUDE_API_KEY: KEY, AMPLITUDE_SECRET_KEY: SECRET, AMPLITUDE_API_BASE: API, ...over });

vi.setConfig({ testTimeout: 240_000 });
afterEach(() => vi.restoreAllMocks());

/** Posts bodies to /webhooks/amplitude with the shared secret header, as Amplitude's webhook destination does. */
async function post(bodies: readonly string[]): Promise<void> {
  for (const body of bodies) {
    const res = await deliver(amplitudeCase, body, await amplitudeCase.sign(body, { secret: amplitudeCase.secret, nowSeconds: 0 }));
    expect(res.status).toBe(200);
  }
}

const inBatches = (events: readonly ProjectEvent[], body: (e: readonly ProjectEvent[]) => string) =>
  Array.from({ length: Math.ceil(events.length / 50) }, (_, i) => body(events.slice(i * 50, i * 50 + 50)));

const uuidOf = (e: ProjectEvent) => eventOf(e).event.uuid;
const insertIdOf = (e: ProjectEvent) => eventOf(e).event.$insert_id;

const linesOf = (ids: ReadonlySet<string>) => rawLinesOf("amplitude", ids);
const waitForLines = (ids: ReadonlySet<string>, count: number) => pollLines(() => linesOf(ids), count, 120_000, 250);

describe("Amplitude record-level reconciliation (Export API hours, events by uuid)", () => {
  it("given a few thousand webhook events with 5% lost and some sent by a template without uuid, when the reconcile job runs, then every exported event is held once under export_events and the ledger says so; a late webhook and a later export poll land nothing new", async () => {
    const events = projectEvents(today - DAY_MS, 3, 2400, 200, 1000);
    const rng = seeded(17);
    const lost = new Set(events.filter(() => rng() < 0.05).map(uuidOf));
    expect(lost.size).toBeGreaterThan(80);
    // 30 events come through a second destination whose template drops uuid and server_upload_time.
    const untemplated = events.filter((e) => !lost.has(uuidOf(e))).slice(100, 130);
    const noUuid = new Set(untemplated.map(uuidOf));
    const asIs = events.filter((e) => !lost.has(uuidOf(e)) && !noUuid.has(uuidOf(e)));
    const ids = new Set([...events.map(uuidOf), ...untemplated.map(insertIdOf)]);
    await post([...inBatches(asIs, asIsBody), ...inBatches(untemplated, withoutUuidBody)]);
    const delivered = await waitForLines(ids, asIs.length + untemplated.length);
    expect(
      delivered
        .filter((l) => l._dock.stream === "events")
        .map((l) => l._dock.key as string)
        .sort(),
    ).toEqual(untemplated.map(insertIdOf).sort());

    const api = exportApi(API, BASIC, () => events);
    vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const ingest = recordingQueue();
    await runReconcileJob(ampEnv({ INGEST: ingest }), "amplitude", day);
    vi.restoreAllMocks();

    expect(api.violations).toEqual([]);
    expect(new Set(api.calls.map((c) => c.origin))).toEqual(new Set([API]));
    // At most 6 hours per request: a listing holds a step's records in memory, so it reads small steps.
    for (const c of api.calls)
      expect(hoursBetween(c.searchParams.get("start") ?? "", c.searchParams.get("end") ?? "")).toBeLessThanOrEqual(6);
    // The window's first hour is asked first (its ISO start turned into the hour it falls in).
    expect(api.calls[0]?.searchParams.get("start")).toBe(`${day.from.slice(0, 4)}${day.from.slice(5, 7)}${day.from.slice(8, 10)}T00`);
    expect(await sourceState("amplitude")).toMatchObject({ last_status: "succeeded", reconciled_to: day.to });

    await writeRaw(ingest.take());
    const lines = await linesOf(ids);
    expect(new Set(lines.map((l) => l._dock.id)).size).toBe(lines.length);
    const recovered = lines.filter((l) => l._dock.pattern === "reconcile");
    expect(recovered.map((l) => l._dock.key as string).sort()).toEqual([...lost, ...noUuid].sort());
    const exported = lines.filter((l) => l._dock.stream === "export_events");
    expect(exported).toHaveLength(events.length);
    expect(new Set(exported.map((l) => l._dock.key)).size).toBe(events.length);
    const held = await objectMarks("amplitude", events.map(uuidOf), "export_events");
    for (const e of events) expect(held.get(uuidOf(e))?.version_ms, uuidOf(e)).toBe(uploadMs(e));

    expect(await ledgerOfDay("amplitude", day.from)).toMatchObject({
      unit: "record",
      expected: events.length,
      received: events.length - lost.size - noUuid.size,
      recovered: lost.size + noUuid.size,
      missing: 0,
      status: "complete",
    });

    // A lost event's webhook arriving now lands nothing (reconciliation wrote it); an unseen one in the same body lands.
    const lostEvent = events.find((e) => lost.has(uuidOf(e))) as ProjectEvent;
    const fresh = projectEvents(today - DAY_MS, 20, 1, 1, 9000)[0] as ProjectEvent;
    await post([asIsBody([lostEvent, fresh])]);
    await waitForLines(new Set([uuidOf(fresh)]), 1);
    expect(await linesOf(ids)).toHaveLength(lines.length);

    // The hourly export poll reading those hours afterwards: every line has the _dock.id already held.
    await resetCursor(
      ampEnv().DB,
      "amplitude",
      "export_events",
      `${day.from.slice(0, 4)}${day.from.slice(5, 7)}${day.from.slice(8, 10)}T02`,
    );
    const poll = exportApi(API, BASIC, () => events);
    vi.spyOn(globalThis, "fetch").mockImplementation(poll.handle as typeof fetch);
    const pollQueue = recordingQueue();
    const polled = await runPollStep(
      ampEnv({ INGEST: pollQueue }) as never,
      amplitudeSource,
      { kind: "poll", source: "amplitude", stream: "export_events" },
      { gate: openGate, maxInlineWaitMs: 0 },
    );
    vi.restoreAllMocks();
    expect(poll.violations).toEqual([]);
    expect(polled).toMatchObject({ status: "succeeded" });
    expect(polled.records).toBeGreaterThanOrEqual(events.length);
    await writeRaw(pollQueue.take());
    expect(await linesOf(ids)).toHaveLength(lines.length);
  });

  it("given an operator's window, when POST /admin/sources/amplitude/reconcile asks to wait, then it answers with how many events were listed, held and recovered", async () => {
    const twoDaysAgo = today - 2 * DAY_MS;
    const events = projectEvents(twoDaysAgo, 5, 40, 20, 3000);
    await post([asIsBody(events.slice(0, 30))]);
    await waitForLines(new Set(events.slice(0, 30).map(uuidOf)), 30);

    const api = exportApi(API, BASIC, () => events);
    const res = await adminReconcile(
      "amplitude",
      { from: new Date(twoDaysAgo).toISOString(), to: new Date(twoDaysAgo + DAY_MS).toISOString() },
      api,
      { AMPLITUDE_API_KEY: KEY, AMPLITUDE_SECRET_KEY: SECRET, AMPLITUDE_API_BASE: API },
    );
    expect(api.violations).toEqual([]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "succeeded", unit: "record", listed: 40, held: 30, recovered: 10, missing: 0 });
  });

  it("given a listing that fails midway, when reconciliation runs, then the window stays unreconciled and the next run asks for it again and completes it", async () => {
    const source = defineSource({ ...amplitudeSource, name: "amplitude_midway" });
    const events = projectEvents(today - DAY_MS, 3, 300, 50, 2000);
    const nowMs = today + 3_600_000;
    const clock = { now: () => nowMs, sleep: async () => {} };
    const ingest = recordingQueue();
    // One hour per request, so the failure falls inside the listing, after pages already classified.
    const runEnv = ampEnv({ INGEST: ingest, AMPLITUDE_MIDWAY_API_BASE: API, AMPLITUDE_EXPORT_MAX_HOURS: "1" });

    const failing = exportApi(API, BASIC, () => events, { failOnCall: 8 });
    vi.spyOn(globalThis, "fetch").mockImplementation(failing.handle as typeof fetch);
    const first = await runReconcileStep(runEnv, source, { kind: "reconcile", source: source.name }, { clock, gate: openGate });
    vi.restoreAllMocks();
    expect(failing.violations).toEqual([]);
    expect(first).toMatchObject({ status: "failed", unit: "record" });
    expect(first.error).toMatch(/step \d+ of export_events/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
    expect(await ledgerOfDay(source.name, day.from)).toBeNull();

    const api = exportApi(API, BASIC, () => events);
    vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const second = await runReconcileStep(runEnv, source, { kind: "reconcile", source: source.name }, { clock, gate: openGate });
    vi.restoreAllMocks();
    expect(api.violations).toEqual([]);
    expect(second).toMatchObject({ status: "succeeded", window: first.window, listed: 300, held: 0, recovered: 300, missing: 0 });
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: first.window?.to, last_status: "succeeded" });
    await writeRaw(ingest.take());
    expect(await readLines(`raw/source=${source.name}/`)).toHaveLength(300);
  });

  it("given an export hour with a line that is not JSON, when reconciliation lists it, then the run succeeds and the line is kept raw once (the poll of that hour lands nothing new)", async () => {
    const source = defineSource({ ...amplitudeSource, name: "amplitude_corrupt" });
    const events = projectEvents(today - DAY_MS, 4, 20, 20, 4000);
    const hour = events[0]?.hour as string;
    const extraLines = { [hour]: ['{"uuid":"broken", "event_type": tru'] };
    const nowMs = today + 6 * 3_600_000;
    const clock = { now: () => nowMs, sleep: async () => {} };
    const ingest = recordingQueue();
    const runEnv = ampEnv({ INGEST: ingest, AMPLITUDE_CORRUPT_API_BASE: API });

    const api = exportApi(API, BASIC, () => events, { extraLines });
    vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const out = await runReconcileStep(runEnv, source, { kind: "reconcile", source: source.name, ...day }, { clock, gate: openGate });
    vi.restoreAllMocks();
    expect(api.violations).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", listed: 21, held: 0, recovered: 21, missing: 0 });
    await writeRaw(ingest.take());
    const prefix = `raw/source=${source.name}/`;
    const raw = (await readEnvelopes(prefix)).filter((e) => e.raw !== undefined);
    expect(raw).toHaveLength(1);
    expect(raw[0]?._dock.key).toMatch(/^187520\/187520_\d{4}-\d{2}-\d{2}_4#0\.json\.gz#\d+$/);

    await resetCursor(runEnv.DB, source.name, "export_events", addHours(hour, -1));
    const poll = exportApi(API, BASIC, () => events, { extraLines });
    vi.spyOn(globalThis, "fetch").mockImplementation(poll.handle as typeof fetch);
    const pollQueue = recordingQueue();
    await runPollStep(
      ampEnv({ INGEST: pollQueue, AMPLITUDE_CORRUPT_API_BASE: API }) as never,
      source,
      { kind: "poll", source: source.name, stream: "export_events" },
      { gate: openGate, maxInlineWaitMs: 0, clock },
    );
    vi.restoreAllMocks();
    expect(poll.violations).toEqual([]);
    await writeRaw(pollQueue.take());
    expect(await readLines(prefix)).toHaveLength(21);
  });

  it("given the versions export_events holds, then their time is server_upload_time (UTC), and a version without it holds nothing", () => {
    expect(amplitudeVersionTime("2026-12-06 03:04:05.123456|0123456789abcdef")).toBe(Date.parse("2026-12-06T03:04:05.123Z"));
    expect(amplitudeVersionTime("2026-12-06 03:04:05|0123456789abcdef")).toBe(Date.parse("2026-12-06T03:04:05Z"));
    expect(amplitudeVersionTime("0123456789abcdef0123456789abcdef")).toBeNull();
    expect(amplitudeVersionTime("2026-12-06T03:04:05Z|0123456789abcdef")).toBeNull();
    // A line kept raw stands for its file's upload hour; other keys with a bare digest hold nothing.
    expect(amplitudeVersionTime("0123456789abcdef0123456789abcdef", "187520/187520_2026-12-06_7#1.json.gz#12")).toBe(
      Date.parse("2026-12-06T07:00:00Z"),
    );
    expect(amplitudeVersionTime("0123456789abcdef0123456789abcdef", "0f6d3a5e-uuid")).toBeNull();
  });
});
