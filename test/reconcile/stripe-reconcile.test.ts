import { dispatch } from "../helpers/dispatch";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { dockId } from "../../src/envelope/dock-id";
import { reconcileSourceNow } from "../../src/reconcile/admin";
import { runReconcileStep } from "../../src/reconcile/run-reconcile";
import type { SourceDefinition } from "../../src/sources/define-source";
import { stripe } from "../../src/sources/stripe";
import { stripeEventRecord } from "../../src/sources/stripe/events";
import { ledgerOf } from "../helpers/ledger";
import { readEnvelopes } from "../helpers/raw-zone";
import { stripeSignature } from "../helpers/stripe";
import {
  installVendor,
  ledgerRows,
  perDay,
  reconcileEnv,
  recordingQueue,
  seeded,
  sourceState,
  stripeEvents,
  stripeEventsApi,
  stripeNamed,
  webhookBody,
  webhookBundles,
  writeRaw,
} from "./helpers";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const nowSec = () => Math.floor(Date.now() / 1000);
const only = (source: SourceDefinition) => (name: string) => (name === source.name ? source : undefined);

afterEach(() => {
  vapi.restore();
});
const vapi = { restore: () => {} };
function vendor(events: Parameters<typeof stripeEventsApi>[0], opts?: Parameters<typeof stripeEventsApi>[1]) {
  const api = stripeEventsApi(events, opts);
  const spy = installVendor(api.handle);
  vapi.restore = () => spy.mockRestore();
  return api;
}

/** The raw-zone envelopes of one test's events (ids carry the test's tag). */
async function envelopesOf(source: string, tag: string) {
  return (await readEnvelopes(`raw/source=${source}/`)).filter((e) => String(e._dock.version).startsWith(`evt_${tag}_`));
}

async function waitForReceipts(source: string, ids: string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = (await ledgerOf().receiptsOf(source, ids)).size;
    if (n >= ids.length) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${ids.length} receipts; have ${n}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("reconciliation of Stripe webhooks against GET /v1/events", () => {
  it("given 3,000 events of which a seeded 5% never arrived by webhook, when the nightly reconciliation runs, then every event is in the raw zone exactly once and the ledger's numbers match", async () => {
    const tag = "n5";
    const count = 3000;
    const base = nowSec() - 30 * 60;
    const events = stripeEvents(tag, count, (i) => base - Math.floor((i * 19 * 3600) / count));
    const rng = seeded(20261125);
    const dropped = new Set(events.filter(() => rng() < 0.05).map((e) => e.id));
    const kept = events.filter((e) => !dropped.has(e.id));
    expect(dropped.size).toBeGreaterThan(100);
    expect(dropped.size).toBeLessThan(200);

    // 40 webhooks through the real route (signed by Stripe's SDK), the rest straight to the raw writer.
    const viaRoute = kept.slice(0, 40);
    for (const e of viaRoute) {
      const body = webhookBody(e);
      const res = await dispatch(
        new Request("https://dock.example/webhooks/stripe", {
          method: "POST",
          body,
          headers: { "content-type": "application/json", "stripe-signature": await stripeSignature(body, "whsec_test_stripe_secret") },
        }),
      );
      expect(res.status).toBe(200);
    }
    await writeRaw(await webhookBundles("stripe", kept.slice(40)));
    await waitForReceipts(
      "stripe",
      viaRoute.map((e) => e.id),
    );

    const api = vendor(events);
    const ingest = recordingQueue();
    const outcome = await runReconcileStep(
      reconcileEnv({ INGEST: ingest }),
      stripe,
      { kind: "reconcile", source: "stripe" },
      { budget: { pages: 1000 } },
    );
    expect(api.violations).toEqual([]);
    expect(outcome).toMatchObject({ status: "succeeded", listed: count, received: kept.length, recovered: dropped.size, missing: 0 });
    expect(api.calls.length).toBe(Math.ceil(count / 100));
    await writeRaw(ingest.take());

    const envelopes = await envelopesOf("stripe", tag);
    expect(envelopes.length).toBe(count);
    expect(new Set(envelopes.map((e) => e._dock.id)).size).toBe(count);
    expect(new Set(envelopes.map((e) => e._dock.version))).toEqual(new Set(events.map((e) => e.id)));
    const byVersion = new Map(envelopes.map((e) => [String(e._dock.version), e]));
    for (const e of events) {
      const got = byVersion.get(e.id);
      const r = stripeEventRecord(e);
      expect(got?._dock.pattern).toBe(dropped.has(e.id) ? "reconcile" : "webhook");
      // The id a webhook would have had: same source, stream, key and version.
      expect(got?._dock.id).toBe(await dockId("stripe", r.stream, r.key, r.version));
      expect(got?.data).toEqual(e);
    }

    const rows = (await ledgerRows("stripe")).filter((r) => perDay(events).has(r.day));
    const expected = perDay(events);
    expect(rows.map((r) => r.day)).toEqual([...expected.keys()].sort());
    for (const row of rows) {
      expect(row).toMatchObject({
        expected: expected.get(row.day),
        received: perDay(events, (e) => !dropped.has(e.id)).get(row.day) ?? 0,
        recovered: perDay(events, (e) => dropped.has(e.id)).get(row.day) ?? 0,
        missing: 0,
        run_id: outcome.runId,
      });
      expect(row.status).toBe("partial"); // a 24-hour window never covers a whole UTC day here
    }
    const state = await sourceState("stripe");
    expect(state?.reconciled_to).toBe(outcome.window?.to);
    expect(state?.active_run_id).toBeNull();

    // A late webhook for an event reconciliation already recovered lands nothing new.
    const late = events.filter((e) => dropped.has(e.id)).slice(0, 5);
    await writeRaw(await webhookBundles("stripe", late));
    const after = await envelopesOf("stripe", tag);
    expect(after.length).toBe(count);
    const receipts = await ledgerOf().receiptsOf(
      "stripe",
      late.map((e) => e.id),
    );
    expect([...new Set(receipts.values())]).toEqual(["reconcile"]);
  }, 240_000);

  it("given two overlapping operator windows over one day, when both have run, then the day counts each event once and is complete", async () => {
    const source = stripeNamed("stripe_rc_overlap");
    const tag = "ov";
    const day = new Date(Date.now() - 2 * DAY).toISOString().slice(0, 10);
    const dayStart = Date.parse(`${day}T00:00:00.000Z`) / 1000;
    const events = stripeEvents(tag, 400, (i) => dayStart + 30 + Math.floor((i * (86_400 - 60)) / 400));
    const rng = seeded(99);
    const dropped = new Set(events.filter(() => rng() < 0.1).map((e) => e.id));
    await writeRaw(
      await webhookBundles(
        source.name,
        events.filter((e) => !dropped.has(e.id)),
      ),
    );
    const api = vendor(events);
    const ingest = recordingQueue();
    const e = reconcileEnv({ INGEST: ingest });

    const first = await reconcileSourceNow(e, only(source), source.name, { from: `${day}T00:00:00.000Z`, to: `${day}T15:00:00.000Z` });
    expect(first.status).toBe(200);
    await writeRaw(ingest.take());
    const second = await reconcileSourceNow(e, only(source), source.name, {
      from: `${day}T09:00:00.000Z`,
      to: new Date((dayStart + 86_400) * 1000).toISOString(),
    });
    expect(second.status).toBe(200);
    await writeRaw(ingest.take());
    // And the first window once more, wholly inside what is already counted.
    const again = await reconcileSourceNow(e, only(source), source.name, { from: `${day}T00:00:00.000Z`, to: `${day}T15:00:00.000Z` });
    expect(again).toMatchObject({ status: 200, body: { recovered: expect.any(Number) } });
    await writeRaw(ingest.take());
    expect(api.violations).toEqual([]);

    const [row] = (await ledgerRows(source.name)).filter((r) => r.day === day);
    expect(row).toMatchObject({
      expected: 400,
      received: 400 - dropped.size,
      recovered: dropped.size,
      missing: 0,
      window_from: `${day}T00:00:00.000Z`,
      window_to: new Date((dayStart + 86_400) * 1000).toISOString(),
      status: "complete",
    });
    const envelopes = await envelopesOf(source.name, tag);
    expect(envelopes.length).toBe(400);
    expect(new Set(envelopes.map((x) => x._dock.id)).size).toBe(400);
  }, 120_000);

  it("given a vendor listing that fails on its third page, when the run stops, then the watermark stays, and the next night lists the same window again and recovers everything once", async () => {
    const source = stripeNamed("stripe_rc_fail");
    const tag = "fl";
    const watermark = new Date(Date.now() - 20 * HOUR).toISOString();
    await env.DB.prepare("INSERT INTO reconcile_state (source, reconciled_to, updated_at) VALUES (?1, ?2, ?2)")
      .bind(source.name, watermark)
      .run();
    const base = nowSec() - 3600;
    const events = stripeEvents(tag, 450, (i) => base - Math.floor((i * 17 * 3600) / 450));
    const rng = seeded(5);
    const dropped = new Set(events.filter(() => rng() < 0.05).map((e) => e.id));
    await writeRaw(
      await webhookBundles(
        source.name,
        events.filter((e) => !dropped.has(e.id)),
      ),
    );
    const ingest = recordingQueue();

    const failing = vendor(events, { failOnCall: 3 });
    const failed = await runReconcileStep(
      reconcileEnv({ INGEST: ingest }),
      source,
      { kind: "reconcile", source: source.name },
      { budget: { pages: 100 } },
    );
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/page 3 .*answered 500/);
    expect(failing.violations).toEqual([]);
    const expectedFrom = String(Math.floor((Date.parse(watermark) - 3600_000) / 1000));
    expect(failing.calls[0]?.searchParams.get("created[gte]")).toBe(expectedFrom);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: watermark, last_status: "failed", active_run_id: null });
    const run = await env.DB.prepare("SELECT status, error FROM runs WHERE id = ?1")
      .bind(failed.runId)
      .first<{ status: string; error: string }>();
    expect(run?.status).toBe("failed");
    expect((await ledgerRows(source.name)).filter((r) => r.status === "complete")).toEqual([]);
    await writeRaw(ingest.take()); // what the two good pages sent is on INGEST and gets written
    vapi.restore();

    const healthy = vendor(events);
    const retried = await runReconcileStep(
      reconcileEnv({ INGEST: ingest }),
      source,
      { kind: "reconcile", source: source.name },
      { budget: { pages: 100 } },
    );
    expect(retried).toMatchObject({ status: "succeeded", listed: 450, missing: 0 });
    expect(retried.received + retried.recovered).toBe(450);
    expect(healthy.calls[0]?.searchParams.get("created[gte]")).toBe(expectedFrom);
    await writeRaw(ingest.take());
    const envelopes = await envelopesOf(source.name, tag);
    expect(envelopes.length).toBe(450);
    expect(new Set(envelopes.map((x) => x._dock.id)).size).toBe(450);
    expect(envelopes.filter((x) => x._dock.pattern === "reconcile").length).toBe(dropped.size);
    const rows = await ledgerRows(source.name);
    expect(rows.reduce((n, r) => n + (r.expected ?? 0), 0)).toBe(450);
    expect(rows.reduce((n, r) => n + (r.recovered ?? 0), 0)).toBe(dropped.size);
    expect((await sourceState(source.name))?.reconciled_to).toBe(retried.window?.to);
  }, 120_000);

  it("given a page that is not a list of Stripe events, when it is read, then the run fails naming the page and nothing moves", async () => {
    const source = stripeNamed("stripe_rc_bad");
    const events = stripeEvents("bd", 150, (i) => nowSec() - 3600 - i * 60);
    const api = stripeEventsApi(events);
    const spy = installVendor(async (input, init) => {
      const res = await api.handle(input, init);
      if (api.calls.length < 2) return res;
      // The second page: an event without `data.object`, as a broken proxy might send.
      const body = (await res.json()) as { data: { data?: unknown }[] };
      delete body.data[0]?.data;
      return Response.json(body);
    });
    vapi.restore = () => spy.mockRestore();
    const ingest = recordingQueue();
    const outcome = await runReconcileStep(reconcileEnv({ INGEST: ingest }), source, { kind: "reconcile", source: source.name });
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/^page 2 of the listing for .*: not a Stripe event/);
    expect(await sourceState(source.name)).toMatchObject({ reconciled_to: null, last_status: "failed" });
    expect(api.violations).toEqual([]);
  });

  it("given Stripe throttling with Retry-After, when the listing is read, then it waits as asked (with jitter) and carries on", async () => {
    const source = stripeNamed("stripe_rc_429");
    const events = stripeEvents("rl", 30, (i) => nowSec() - 3600 - i * 60);
    const api = stripeEventsApi(events);
    let throttled = 0;
    const spy = installVendor(async (input, init) => {
      if (throttled++ === 0) {
        return Response.json({ error: { type: "rate_limit_error" } }, { status: 429, headers: { "retry-after": "2" } });
      }
      return api.handle(input, init);
    });
    vapi.restore = () => spy.mockRestore();
    const sleeps: number[] = [];
    let t = Date.now();
    const clock = {
      now: () => t,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
      },
    };
    const ingest = recordingQueue();
    const outcome = await runReconcileStep(
      reconcileEnv({ INGEST: ingest }),
      source,
      { kind: "reconcile", source: source.name },
      { clock, gate: { reserve: async () => 0, pause: async () => {} } },
    );
    expect(outcome).toMatchObject({ status: "succeeded", listed: 30, recovered: 30 });
    expect(sleeps.length).toBe(1);
    expect(sleeps[0]).toBeGreaterThan(2000);
    expect(sleeps[0]).toBeLessThanOrEqual(2500);
  });

  it("given a window reaching back 31 days, when an operator asks for it, then it is refused with the history limit and nothing is listed", async () => {
    const source = stripeNamed("stripe_rc_long");
    const api = vendor([]);
    const from = new Date(Date.now() - 31 * DAY).toISOString();
    const result = await reconcileSourceNow(reconcileEnv(), only(source), source.name, { from });
    expect(result.status).toBe(400);
    expect((result.body as { error: string }).error).toMatch(
      /reaches back 31\.0 days, but stripe_rc_long keeps its listing for 30 days.*unrecoverable range/,
    );
    expect(api.calls).toEqual([]);

    // The same window as a queued job: refused too, and visible in the source's state.
    const outcome = await runReconcileStep(reconcileEnv(), source, { kind: "reconcile", source: source.name, from });
    expect(outcome.status).toBe("failed");
    expect(await sourceState(source.name)).toMatchObject({ last_status: "refused", reconciled_to: null, active_run_id: null });
    expect(api.calls).toEqual([]);
  });

  it("given a source last reconciled 40 days ago, when the nightly run comes, then the range past Stripe's 30 days is reported unrecoverable and the rest is reconciled", async () => {
    const source = stripeNamed("stripe_rc_down");
    const tag = "dn";
    const watermark = new Date(Date.now() - 40 * DAY).toISOString();
    await env.DB.prepare("INSERT INTO reconcile_state (source, reconciled_to, updated_at) VALUES (?1, ?2, ?2)")
      .bind(source.name, watermark)
      .run();
    const events = stripeEvents(tag, 120, (i) => nowSec() - 3600 - i * 7200);
    const api = vendor(events);
    const ingest = recordingQueue();
    const outcome = await runReconcileStep(
      reconcileEnv({ INGEST: ingest }),
      source,
      { kind: "reconcile", source: source.name },
      { budget: { pages: 100 } },
    );
    expect(outcome).toMatchObject({ status: "succeeded", listed: 120, recovered: 120, missing: 0 });
    expect(outcome.unrecoverable?.from).toBe(watermark);
    const horizon = Date.parse(outcome.unrecoverable?.to ?? "");
    expect(Math.abs(horizon - (Date.now() - 30 * DAY + HOUR))).toBeLessThan(60_000);
    expect(api.calls[0]?.searchParams.get("created[gte]")).toBe(String(Math.floor(horizon / 1000)));
    expect(await sourceState(source.name)).toMatchObject({ unrecoverable_from: watermark, unrecoverable_to: outcome.unrecoverable?.to });

    const rows = await ledgerRows(source.name);
    const lost = rows.filter((r) => r.status === "unrecoverable range");
    expect(lost.length).toBeGreaterThanOrEqual(10);
    expect(lost[0]?.day).toBe(watermark.slice(0, 10));
    expect(lost[0]?.detail).toContain(`${watermark} .. ${outcome.unrecoverable?.to}`);
    // Days wholly before the horizon were never listed: nothing is claimed about them.
    const horizonDay = (outcome.unrecoverable?.to ?? "").slice(0, 10);
    expect(lost.filter((r) => r.day < horizonDay).every((r) => r.expected === null)).toBe(true);
    expect(lost.at(-1)?.day).toBe(horizonDay);
    // Whole days inside the listed window are complete.
    const complete = rows.filter((r) => r.status === "complete");
    expect(complete.length).toBeGreaterThanOrEqual(28);
    expect(complete.reduce((n, r) => n + (r.expected ?? 0), 0)).toBeLessThanOrEqual(120);
  }, 120_000);
});
