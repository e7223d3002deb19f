import { afterEach, describe, expect, it, vi } from "vitest";
import { defineSource } from "../../src/sources/define-source";
import { shopify as shopifySource } from "../../src/sources/shopify";
import { SHOPIFY_API_VERSION } from "../../src/sources/shopify/auth";
import { shopifyVersionTime } from "../../src/sources/shopify/reconcile";
import { readLines } from "../helpers/raw-zone";
import { shopify as shopifyCase } from "../webhooks/cases";
import { deliver, hmacText } from "../webhooks/support";
import { recordingQueue, reconcileEnv, seeded, sourceState, writeRaw } from "./helpers";
import { adminReconcile, ledgerOfDay, objectMarks, pollLines, rawLinesOf, reconcileStepWith, runReconcileJob } from "./record-level";
import { lastUpdate, type ShopifyWebhook, type ShopObject, shopifyAdminApi, shopObjects, webhooksOf } from "./shopify-fixtures";

const API = "https://shopify-fake.example";
const TOKEN = "shpat_reconcile_test_token";
const DAY_MS = 86_400_000;
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Yesterday, whole: the window every test reconciles, so the day can be complete. */
const day = { from: new Date(today - DAY_MS).toISOString(), to: new Date(today).toISOString() };
const shopifyEnv = (over: Record<string, unknown> = {}) => reconcileEnv({ SHOPIFY_ADMIN_TOKEN: TOKEN, SHOPIFY_API_BASE: API, ...over });

vi.setConfig({ testTimeout: 240_000 });
afterEach(() => vi.restoreAllMocks());

/** Posts each webhook to /webhooks/shopify as Shopify does: one object per request, signed, with its topic and event id. */
async function postWebhooks(webhooks: readonly ShopifyWebhook[]): Promise<void> {
  for (let i = 0; i < webhooks.length; i += 25) {
    await Promise.all(
      webhooks.slice(i, i + 25).map(async (w) => {
        const headers = {
          "x-shopify-hmac-sha256": await hmacText("SHA-256", shopifyCase.secret, w.body, "base64"),
          "x-shopify-topic": w.topic,
          "x-shopify-event-id": w.eventId,
          "x-shopify-webhook-id": `wh-${w.eventId}`,
          "x-shopify-triggered-at": new Date(w.triggeredAt).toISOString(),
          "x-shopify-shop-domain": "acme.myshopify.com",
          "x-shopify-api-version": SHOPIFY_API_VERSION,
        };
        const res = await deliver(shopifyCase, w.body, { headers });
        expect(res.status).toBe(200);
      }),
    );
  }
}

const linesOf = (ids: ReadonlySet<string>) => rawLinesOf("shopify", ids);

const waitForLines = (ids: ReadonlySet<string>, count: number) => pollLines(() => linesOf(ids), count, 90_000, 200);

const marks = (source: string, ids: readonly string[]) => objectMarks(source, ids);

const ledger = (source: string) => ledgerOfDay(source, day.from);

describe("Shopify record-level reconciliation (REST Admin API orders, products, customers by updated_at)", () => {
  it("given a few thousand webhooks with 5% lost and one order's second change lost, when the reconcile job runs, then every listed object is held at its newest version, once, and the ledger says so; a late webhook lands nothing", async () => {
    const start = today - DAY_MS + 3 * 3_600_000;
    const objects: ShopObject[] = shopObjects(2400, 6_100_000_000_000, (i) => start + i * 7_000);
    // One order changed twice; a product deleted (its deletion webhook arrives; the API lists it no more).
    const twice = objects.find((o) => o.resource === "orders") as ShopObject;
    twice.updates.push(start + 20 * 3_600_000);
    const deleted = objects.find((o) => o.resource === "products") as ShopObject;
    deleted.deletedAt = start + 19 * 3_600_000;

    const all = webhooksOf(objects);
    const rng = seeded(23);
    const lost = new Set<ShopifyWebhook>();
    for (const w of all) if (rng() < 0.05) lost.add(w);
    const firstChange = all.find((w) => w.object === twice && w.topic === "orders/create") as ShopifyWebhook;
    const secondChange = all.find((w) => w.object === twice && w.topic === "orders/updated") as ShopifyWebhook;
    lost.delete(firstChange);
    lost.add(secondChange);
    for (const w of all) if (w.object === deleted) lost.delete(w);
    const delivered = all.filter((w) => !lost.has(w));
    expect(all.length).toBeGreaterThan(2400);
    expect(lost.size).toBeGreaterThan(90);

    const ids = new Set(objects.map((o) => String(o.id)));
    await postWebhooks(delivered);
    await waitForLines(ids, delivered.length);

    // Objects the shop lists (not deleted) whose newest state came by no webhook: those must be recovered.
    const newestDelivered = new Map<number, number>();
    for (const w of delivered) newestDelivered.set(w.object.id, Math.max(newestDelivered.get(w.object.id) ?? 0, w.triggeredAt));
    const listed = objects.filter((o) => o.deletedAt === undefined);
    const notHeld = listed.filter((o) => (newestDelivered.get(o.id) ?? -1) < lastUpdate(o));
    expect(notHeld).toContain(twice);
    expect(notHeld.length).toBeGreaterThan(90);

    const api = shopifyAdminApi(API, SHOPIFY_API_VERSION, TOKEN, () => objects);
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(api.handle as typeof fetch);
    const ingest = recordingQueue();
    await runReconcileJob(shopifyEnv({ INGEST: ingest }), "shopify", day);
    fetchSpy.mockRestore();

    expect(api.violations).toEqual([]);
    // Base-URL override honoured; every resource listed, its later pages through the Link header.
    expect(new Set(api.calls.map((c) => c.origin))).toEqual(new Set([API]));
    expect(new Set(api.calls.map((c) => c.pathname))).toEqual(
      new Set(["orders", "products", "customers"].map((r) => `/admin/api/${SHOPIFY_API_VERSION}/${r}.json`)),
    );
    expect(api.calls.filter((c) => c.searchParams.has("page_info")).length).toBeGreaterThan(3);
    // Each list is asked for what changed since the window began (minus the 5-minute lookback), not read whole.
    const firstPages = api.calls.filter((c) => !c.searchParams.has("page_info"));
    expect(firstPages.map((c) => c.searchParams.get("updated_at_min"))).toEqual(
      Array(3).fill(new Date(Date.parse(day.from) - 300_000).toISOString()),
    );
    expect(await sourceState("shopify")).toMatchObject({ last_status: "succeeded", reconciled_to: day.to });

    await writeRaw(ingest.take());
    const lines = await linesOf(ids);
    // 0 duplicates after _dock.id; the recovered ones are exactly the objects not held, poll-shaped, on their object's stream.
    expect(new Set(lines.map((l) => l._dock.id)).size).toBe(lines.length);
    const recovered = lines.filter((l) => l._dock.pattern === "reconcile");
    expect(recovered.map((l) => l._dock.key as string).sort()).toEqual(notHeld.map((o) => String(o.id)).sort());
    for (const l of recovered) expect(l._dock.stream).toBe(objects.find((o) => String(o.id) === l._dock.key)?.resource);
    expect(shopifyVersionTime(recovered.find((l) => l._dock.key === String(twice.id))?._dock.version as string, String(twice.id))).toBe(
      lastUpdate(twice),
    );
    // Every listed object is held at its newest version; the deleted one as of its deletion.
    const held = await marks("shopify", [...ids]);
    for (const o of listed) expect(held.get(String(o.id))?.version_ms, String(o.id)).toBeGreaterThanOrEqual(lastUpdate(o));
    expect(held.get(String(deleted.id))?.version_ms).toBe(deleted.deletedAt);

    expect(await ledger("shopify")).toMatchObject({
      unit: "record",
      expected: listed.length,
      received: listed.length - notHeld.length,
      recovered: notHeld.length,
      missing: 0,
      status: "complete",
    });

    // The lost second change arriving now describes what reconciliation already holds: nothing new lands.
    // A webhook of an object nobody has seen yet, posted after it, must land.
    const fresh = webhooksOf([{ resource: "customers", id: 6_199_999_999_999, updates: [secondChange.triggeredAt] }]);
    await postWebhooks([secondChange, ...fresh]);
    await waitForLines(new Set(["6199999999999"]), 1);
    expect((await linesOf(ids)).length).toBe(lines.length);
  });

  it("given an operator's window, when POST /admin/sources/shopify/reconcile asks to wait, then it answers with how many objects were listed, held and recovered", async () => {
    const twoDaysAgo = today - 2 * DAY_MS;
    const objects = shopObjects(40, 6_200_000_000_000, (i) => twoDaysAgo + 5 * 3_600_000 + i * 1000);
    await postWebhooks(webhooksOf(objects.slice(0, 30)));
    await waitForLines(new Set(objects.slice(0, 30).map((o) => String(o.id))), 30);

    const api = shopifyAdminApi(API, SHOPIFY_API_VERSION, TOKEN, () => objects);
    const res = await adminReconcile(
      "shopify",
      { from: new Date(twoDaysAgo).toISOString(), to: new Date(twoDaysAgo + DAY_MS).toISOString() },
      api,
      { SHOPIFY_ADMIN_TOKEN: TOKEN, SHOPIFY_API_BASE: API },
    );
    expect(api.violations).toEqual([]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "succeeded", unit: "record", listed: 40, held: 30, recovered: 10, missing: 0 });
  });

  it("given a listing that fails midway, when reconciliation runs, then the window stays unreconciled and the next run asks for it again and completes it", async () => {
    const source = defineSource({ ...shopifySource, name: "shopify_midway" });
    const start = today - DAY_MS + 3_600_000;
    const objects = shopObjects(900, 6_300_000_000_000, (i) => start + i * 60_000);
    const clock = { now: () => today + 3_600_000, sleep: async () => {} };
    const ingest = recordingQueue();
    const runEnv = shopifyEnv({ INGEST: ingest });

    // Orders take two pages of 250; the third call (products' first page) fails.
    const failing = shopifyAdminApi(API, SHOPIFY_API_VERSION, TOKEN, () => objects, { failOnCall: 3 });
    const first = await reconcileStepWith(failing, runEnv, source, clock);
    expect(failing.violations).toEqual([]);
    expect(first).toMatchObject({ status: "failed", unit: "record" });
    expect(first.error).toMatch(/page 3 of the listing/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
    expect(await ledger(source.name)).toBeNull();

    const api = shopifyAdminApi(API, SHOPIFY_API_VERSION, TOKEN, () => objects);
    const second = await reconcileStepWith(api, runEnv, source, clock);
    expect(api.violations).toEqual([]);
    // The same window again; this copy of the source tracks no marks, so every object is recovered.
    expect(second).toMatchObject({ status: "succeeded", window: first.window, listed: 900, held: 0, recovered: 900, missing: 0 });
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: first.window?.to, last_status: "succeeded" });
    await writeRaw(ingest.take());
    const lines = await readLines(`raw/source=${source.name}/`);
    expect(lines).toHaveLength(900);
  });
});
