import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { IngestMessage } from "../../src/envelope/bundle";
import { dockId } from "../../src/envelope/dock-id";
import { setLogSink } from "../../src/lib/log";
import { newRunId, type PollEnv, runPollStep } from "../../src/pollers/run-poll";
import type { PollSource } from "../../src/pollers/types";
import { processIngestBatch } from "../../src/queue-consumers/ingest-consumer";
import { aBundle, aRecord } from "../helpers/fixtures";
import { clearBucket, readEnvelopes } from "../helpers/raw-zone";
import { aStripeEvent, stripeSignature } from "../helpers/stripe";
import { type FaultPlan, faultPlan, faultyD1, faultyLedger, faultyQueue, faultyR2 } from "./faulty-bindings";
import { SimQueue } from "./sim-queue";

/**
 * The no-loss proof: webhooks, a poll and CDC deliveries — over 10,000 records — go through the
 * real entry points and the real raw writer while R2, D1 and the queues fail 10% of their calls
 * (before, by timing out, or after the work succeeded). Producers retry as the real ones do (a
 * vendor re-sends on non-2xx, the sidecar re-posts, a job is redelivered). At the end every
 * accepted record is in the raw zone, and the distinct ids equal the ground truth.
 */
const WEBHOOKS = 4_000;
const CDC_RECORDS = 4_000;
const POLLED = 2_100;
const STRIPE_SECRET = "whsec_test_stripe_secret";
const CDC_SECRET = "whsec_dGVzdC1jZGMtaW5nZXN0LXNlY3JldC0zMmJ5dGVzIQ==";

const ingest = new SimQueue<IngestMessage>();
const jobs = new SimQueue<unknown>();
let plan: FaultPlan;
const truth = new Set<string>();
const attempts = { webhook: 0, cdc: 0, poll: 0 };

function faultyEnv() {
  return {
    ...env,
    RAW: faultyR2(env.RAW, plan),
    DB: faultyD1(env.DB, plan),
    INGEST: faultyQueue(ingest.asQueue(), plan),
    JOBS: faultyQueue(jobs.asQueue(), plan),
  } as unknown as Env;
}

/** A sender that retries on anything but 2xx, as vendors and the sidecar do. */
async function deliver(request: () => Promise<Request>, counter: keyof typeof attempts): Promise<void> {
  const app = createApp();
  for (let i = 0; i < 50; i++) {
    attempts[counter]++;
    const res = await app.fetch(await request(), faultyEnv());
    if (res.ok) return;
    if (res.status !== 503 && res.status !== 500) throw new Error(`unexpected ${res.status}: ${await res.text()}`);
  }
  throw new Error("gave up after 50 tries");
}

/** A vendor list endpoint: records with ties on updated_at, `updated_since` (>=) and an opaque page token. */
function vendorItems() {
  const base = Date.parse("2026-11-20T00:00:00Z");
  return Array.from({ length: POLLED }, (_, i) => ({
    id: `item_${String(i).padStart(5, "0")}`,
    updated_at: new Date(base + Math.floor(i / 7) * 1000).toISOString(),
    n: i,
  }));
}

describe("no record is lost while the platform fails 10% of calls", () => {
  beforeAll(async () => {
    await clearBucket();
    plan = faultPlan(0.1, 20261125);
    setLogSink(() => {});
  });
  afterAll(() => setLogSink(undefined));

  it("webhooks: every accepted delivery is queued (retries by the sender included)", async () => {
    for (let i = 0; i < WEBHOOKS; i++) {
      const event = aStripeEvent()
        .withId(`evt_fault_${i}`)
        .withObject({ id: `ch_fault_${i}`, object: "charge", amount: i });
      const body = event.json();
      await deliver(
        async () =>
          new Request("https://dock.example/webhooks/stripe", {
            method: "POST",
            body,
            headers: { "stripe-signature": await stripeSignature(body, STRIPE_SECRET) },
          }),
        "webhook",
      );
      truth.add(await dockId("stripe", "charges", `ch_fault_${i}`, `evt_fault_${i}`));
    }
  }, 300_000);

  it("CDC: every accepted sidecar delivery is queued", async () => {
    for (let b = 0; b < CDC_RECORDS / 100; b++) {
      const records = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          aRecord({ source: "app_db", stream: "public.orders", key: `o${b}-${i}`, version: `0/${b * 100 + i}`, pattern: "cdc" }),
        ),
      );
      const body = JSON.stringify({
        bundles: [aBundle(records, { source: "app_db", stream: "public.orders", pattern: "cdc", dedupe: "bundle" })],
      });
      await deliver(async () => {
        const id = `msg_${crypto.randomUUID()}`;
        const now = new Date();
        return new Request("https://dock.example/ingest/cdc", {
          method: "POST",
          body,
          headers: {
            "webhook-id": id,
            "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
            "webhook-signature": new Webhook(CDC_SECRET).sign(id, now, body),
          },
        });
      }, "cdc");
      for (const r of records) truth.add(r.id);
    }
  }, 300_000);

  it("poll: a run that keeps failing mid-way still delivers every record, resuming from its checkpoint", async () => {
    const items = vendorItems();
    const source: PollSource = {
      name: "faulty_vendor",
      baseUrl: "https://api.vendor.test",
      streams: [
        {
          name: "items",
          path: "/v1/items",
          records: "data",
          primaryKey: "id",
          pageSize: 100,
          cursor: { kind: "updated_at", field: "updated_at", param: "updated_since", lookbackSeconds: 60, ascending: true },
          pagination: { style: "cursor", path: "next", param: "page_token", limitParam: "limit" },
        },
      ],
    };
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const since = url.searchParams.get("updated_since");
      const from = Number(url.searchParams.get("page_token") ?? "0");
      const limit = Number(url.searchParams.get("limit") ?? "100");
      const matching = items.filter((it) => !since || it.updated_at >= since);
      const page = matching.slice(from, from + limit);
      const next = from + limit < matching.length ? String(from + limit) : null;
      return new Response(JSON.stringify({ data: page, next }), { headers: { "content-type": "application/json" } });
    });
    try {
      // As the scheduler does: the job names its run, so a redelivered job resumes the same run.
      const newJob = () => ({ kind: "poll" as const, source: source.name, stream: "items", run_id: newRunId("poll", new Date()) });
      let job = newJob();
      for (let step = 0; step < 5_000; step++) {
        attempts.poll++;
        let outcome: Awaited<ReturnType<typeof runPollStep>>;
        try {
          outcome = await runPollStep(faultyEnv() as unknown as PollEnv, source, job, { budget: { pages: 3 }, maxInlineWaitMs: 0 });
        } catch {
          continue; // the JOBS message is redelivered: the same job runs again
        }
        if (outcome.status === "succeeded") break;
        // A failed run is over; the next scheduled poll starts a new one from the stored cursor.
        if (outcome.status === "failed") job = newJob();
        // A continuation went to JOBS carrying the same run id; running the job again is its delivery.
        while (jobs.pending > 0) await jobs.drain(async (batch) => batch.ackAll());
      }
      const last = await env.DB.prepare("SELECT status FROM runs WHERE source = ? ORDER BY started_at DESC LIMIT 1")
        .bind(source.name)
        .first<{ status: string }>();
      expect(last?.status).toBe("succeeded");
    } finally {
      spy.mockRestore();
    }
  }, 300_000);

  it("the raw writer, failing too, lands all of it: distinct ids equal the ground truth", async () => {
    // The record ledger's shards fail too (before, timing out, after their write): a retry must still land every record.
    const writerEnv = { ...env, RAW: faultyR2(env.RAW, plan), DB: faultyD1(env.DB, plan), LEDGER: faultyLedger(env.LEDGER, plan) };
    // Small batches, so the writer meets many faults of its own (each batch is a few R2 and D1 calls).
    const write = (batch: MessageBatch<IngestMessage>) => processIngestBatch(writerEnv, batch as MessageBatch<unknown>);
    let batches = await ingest.drain(write, { batchSize: 10, maxRetries: 10 });
    const redriven = ingest.redrive();
    batches += await ingest.drain(write, { batchSize: 10, maxRetries: 10 });

    const envelopes = await readEnvelopes("raw/");
    const ids = new Set(envelopes.map((e) => e._dock.id));
    const missing = [...truth].filter((id) => !ids.has(id));
    const polledKeys = new Set(envelopes.filter((e) => e._dock.source === "faulty_vendor").map((e) => e._dock.key));

    console.log(
      JSON.stringify({
        event: "fault_suite.report",
        records_truth: truth.size + POLLED,
        lines_in_raw: envelopes.length,
        distinct_ids: ids.size,
        records_sent_to_ingest: ingest.recordsSent,
        repeats_sent_to_ingest: ingest.recordsSent - ids.size,
        duplicates_in_raw_zone: envelopes.length - ids.size,
        writer_batches: batches,
        redriven_from_dlq: redriven,
        sends: attempts,
        faults: plan.injected,
      }),
    );
    expect(missing).toEqual([]);
    expect(polledKeys.size).toBe(POLLED);
    expect(truth.size + POLLED).toBeGreaterThanOrEqual(10_000);
    const polledIds = new Set(envelopes.filter((e) => e._dock.source === "faulty_vendor").map((e) => e._dock.id));
    expect(ids.size).toBe(truth.size + polledIds.size);
    // The faults really happened, in every kind of binding, and producers really repeated themselves.
    // A one-message delivery (a webhook) goes by Queue.send, a larger one by Queue.sendBatch: either is the queue.
    const queueFaults = (plan.injected["Queue.send"] ?? 0) + (plan.injected["Queue.sendBatch"] ?? 0);
    expect(queueFaults, "Queue.send + Queue.sendBatch").toBeGreaterThan(0);
    for (const binding of ["D1.batch", "R2.put", "LEDGER.read", "LEDGER.write"])
      expect(plan.injected[binding] ?? 0, binding).toBeGreaterThan(0);
    expect(ingest.recordsSent).toBeGreaterThan(ids.size);
  }, 600_000);
});
