import { afterEach, describe, expect, it, vi } from "vitest";
import { seeded } from "../../src/lib/seeded";
import { defineSource } from "../../src/sources/define-source";
import { intercom as intercomSource } from "../../src/sources/intercom";
import { intercomVersionTime } from "../../src/sources/intercom/reconcile";
import { readLines } from "../helpers/raw-zone";
import { intercom as intercomCase } from "../webhooks/cases";
import { deliver, nowSeconds } from "../webhooks/support";
import { recordingQueue, reconcileEnv, sourceState, writeRaw } from "./helpers";
import { adminReconcile, ledgerOfDay, objectMarks, pollLines, rawLinesOf, reconcileStepWith, runReconcileJob } from "./record-level";
import {
  intercomSearchApi,
  listedAt,
  type Notification,
  notificationsOf,
  type WorkspaceObject,
  workspaceObjects,
} from "./intercom-fixtures";

const API = "https://intercom-fake.example";
const TOKEN = "dG9rOmludGVyY29tLXJlY29uY2lsZQ==";
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Yesterday, whole: the window every test reconciles, so the day can be complete. */
const day = { from: new Date(today - DAY_MS).toISOString(), to: new Date(today).toISOString() };
const intercomEnv = (over: Record<string, unknown> = {}) => reconcileEnv({ INTERCOM_ACCESS_TOKEN: TOKEN, INTERCOM_API_BASE: API, ...over });

vi.setConfig({ testTimeout: 240_000 });
afterEach(() => vi.restoreAllMocks());

/** Posts notifications to /webhooks/intercom as Intercom does: one per request, signed with X-Hub-Signature. */
async function postWebhooks(notifications: readonly Notification[]): Promise<void> {
  for (let i = 0; i < notifications.length; i += 25) {
    await Promise.all(
      notifications.slice(i, i + 25).map(async (n) => {
        const body = JSON.stringify(n);
        const res = await deliver(
          intercomCase,
          body,
          await intercomCase.sign(body, { secret: intercomCase.secret, nowSeconds: nowSeconds() }),
        );
        expect(res.status).toBe(200);
      }),
    );
  }
}

const linesOf = (ids: ReadonlySet<string>) => rawLinesOf("intercom", ids);

const waitForLines = (ids: ReadonlySet<string>, count: number) => pollLines(() => linesOf(ids), count, 90_000, 250);

const marks = (ids: readonly string[]) => objectMarks("intercom", ids);

const ledger = (source: string) => ledgerOfDay(source, day.from);

describe("Intercom record-level reconciliation (contacts and conversations search by updated_at)", () => {
  it("given a few thousand notifications with 5% lost and one conversation's second change lost, when the reconcile job runs, then every object is held at its newest version, once, and the ledger says so; a late notification lands nothing", async () => {
    const start = Math.floor((today - DAY_MS) / 1000) + 3 * 3600;
    const objects: WorkspaceObject[] = workspaceObjects(2000, 0x6762f0, (i) => start + i * 30);
    const twice = objects[1] as WorkspaceObject;
    expect(twice.kind).toBe("conversations");
    twice.changes.push({ at: start + 20 * 3600, topic: "conversation.admin.replied" });

    const all = notificationsOf(objects);
    const rng = seeded(17);
    const lost = new Set<Notification>();
    for (const n of all) if (rng() < 0.05) lost.add(n.notification);
    const [firstChange, secondChange] = all.filter((n) => n.object === twice).map((n) => n.notification) as [Notification, Notification];
    lost.delete(firstChange);
    lost.add(secondChange);
    const delivered = all.filter((n) => !lost.has(n.notification)).map((n) => n.notification);
    expect(all.length).toBe(2001);
    expect(lost.size).toBeGreaterThan(70);

    const ids = new Set(objects.map((o) => o.id));
    await postWebhooks(delivered);
    await waitForLines(ids, delivered.length);

    // What the workspace would report as not held: objects whose newest change came by no notification.
    const newestDelivered = new Map<string, number>();
    for (const n of delivered) {
      const id = n.data.item.id as string;
      newestDelivered.set(id, Math.max(newestDelivered.get(id) ?? 0, n.data.item.updated_at as number));
    }
    const notHeld = objects.filter((o) => (newestDelivered.get(o.id) ?? -1) < listedAt(o));
    expect(notHeld.map((o) => o.id)).toContain(twice.id);
    expect(notHeld.length).toBe(lost.size);

    const api = intercomSearchApi(API, TOKEN, () => objects);
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const ingest = recordingQueue();
    await runReconcileJob(intercomEnv({ INGEST: ingest }), "intercom", day);
    fetchSpy.mockRestore();

    expect(api.violations).toEqual([]);
    // Base-URL override honoured; both searches asked, paged with starting_after.
    expect(new Set(api.calls.map((c) => c.url.origin))).toEqual(new Set([API]));
    expect(new Set(api.calls.map((c) => c.url.pathname))).toEqual(new Set(["/contacts/search", "/conversations/search"]));
    expect(api.calls.some((c) => c.body.includes("starting_after"))).toBe(true);
    expect(await sourceState("intercom")).toMatchObject({ last_status: "succeeded", reconciled_to: day.to });

    await writeRaw(ingest.take());
    const lines = await linesOf(ids);
    // 0 duplicates after _dock.id; the recovered ones are poll-shaped (the object, versioned by updated_at).
    expect(new Set(lines.map((l) => l._dock.id)).size).toBe(lines.length);
    const recovered = lines.filter((l) => l._dock.pattern === "reconcile");
    expect(recovered.map((l) => l._dock.key as string).sort()).toEqual(notHeld.map((o) => o.id).sort());
    expect(new Set(recovered.map((l) => l._dock.stream))).toEqual(new Set(["contacts", "conversations"]));
    const held = await marks([...ids]);
    for (const o of objects) expect(held.get(o.id)?.version_ms, o.id).toBeGreaterThanOrEqual(listedAt(o) * 1000);
    expect(intercomVersionTime(recovered.find((l) => l._dock.key === twice.id)?._dock.version as string, twice.id)).toBe(
      (twice.changes[1]?.at as number) * 1000,
    );

    expect(await ledger("intercom")).toMatchObject({
      unit: "record",
      expected: objects.length,
      received: objects.length - notHeld.length,
      recovered: notHeld.length,
      missing: 0,
      status: "complete",
    });

    // The lost second change arriving now describes what reconciliation already holds: nothing new
    // lands. A notification of a change nobody has seen yet, sent with it, must land.
    const fresh: Notification = {
      ...secondChange,
      id: "notif_fresh-0001",
      data: { ...secondChange.data, item: { ...secondChange.data.item, id: "9999999", updated_at: (twice.changes[1]?.at as number) + 1 } },
    };
    await postWebhooks([secondChange, fresh]);
    await waitForLines(new Set(["9999999"]), 1);
    expect((await linesOf(ids)).length).toBe(lines.length);
  });

  it("given an operator's window, when POST /admin/sources/intercom/reconcile asks to wait, then it answers with how many objects were listed, held and recovered", async () => {
    const twoDaysAgo = today - 2 * DAY_MS;
    const objects = workspaceObjects(40, 0x7a01, (i) => Math.floor(twoDaysAgo / 1000) + 5 * 3600 + i * 60);
    await postWebhooks(notificationsOf(objects.slice(0, 30)).map((n) => n.notification));
    await waitForLines(new Set(objects.slice(0, 30).map((o) => o.id)), 30);

    const api = intercomSearchApi(API, TOKEN, () => objects);
    const res = await adminReconcile(
      "intercom",
      { from: new Date(twoDaysAgo).toISOString(), to: new Date(twoDaysAgo + DAY_MS).toISOString() },
      api,
      { INTERCOM_ACCESS_TOKEN: TOKEN, INTERCOM_API_BASE: API },
    );
    expect(api.violations).toEqual([]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "succeeded", unit: "record", listed: 40, held: 30, recovered: 10, missing: 0 });
  });

  it("given a search that fails midway, when reconciliation runs, then the window stays unreconciled and the next run asks for it again and completes it", async () => {
    const source = defineSource({ ...intercomSource, name: "intercom_midway" });
    const start = Math.floor((today - DAY_MS) / 1000) + 3600;
    const objects = workspaceObjects(900, 0x7b02, (i) => start + i * 60);
    const nowMs = today + 3_600_000;
    const clock = { now: () => nowMs, sleep: async () => {} };
    const ingest = recordingQueue();
    const runEnv = intercomEnv({ INGEST: ingest });

    const failing = intercomSearchApi(API, TOKEN, () => objects, { failOnCall: 3 });
    const first = await reconcileStepWith(failing, runEnv, source, clock);
    expect(first).toMatchObject({ status: "failed", unit: "record" });
    expect(first.error).toMatch(/page 3 of the listing/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
    expect(await ledger(source.name)).toBeNull();

    const api = intercomSearchApi(API, TOKEN, () => objects);
    const second = await reconcileStepWith(api, runEnv, source, clock);
    expect(api.violations).toEqual([]);
    expect(second).toMatchObject({ status: "succeeded", window: first.window, listed: 900, held: 0, recovered: 900, missing: 0 });
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: first.window?.to, last_status: "succeeded" });
    await writeRaw(ingest.take());
    expect(await readLines(`raw/source=${source.name}/`)).toHaveLength(900);
  });
});
