import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDemoVendor } from "../../demo/app";
import { DEMO_TOKEN } from "../../demo/fixtures";
import { unpackMessageBody } from "../../src/envelope/message-body";
import { JITTER_TOLERANCE_MS } from "../../src/pollers/rate-gate";
import { processJobsBatch } from "../../src/queue-consumers/jobs-consumer";
import { pollEnv, quietLogs, recordingQueue } from "./helpers";

beforeEach(async () => {
  quietLogs();
  // A run left holding its stream by an earlier test would make the next one skip it as busy.
  await workerEnv.DB.prepare("DELETE FROM poll_schedule WHERE source = 'demo'").run();
});
afterEach(() => vi.restoreAllMocks());

const VENDOR = "http://demo.vendor.test";
const LATENCY_MS = 300;

function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + windowMs) j++;
    max = Math.max(max, j - i);
  }
  return max;
}

/** The demo vendor answering every request LATENCY_MS late: a slow vendor, seen from the Worker. */
function slowDemoVendor() {
  const vendor = createDemoVendor({ items: 250, customers: 300, failRate: 0, burst429: { every: 0, length: 0 } });
  const seen: { stream: string; at: number }[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    if (!req.url.startsWith(`${VENDOR}/`)) return new Response("unexpected", { status: 418 });
    seen.push({ stream: new URL(req.url).pathname.split("/").at(-1) as string, at: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, LATENCY_MS));
    return vendor.app.fetch(req);
  });
  return { ...vendor, seen };
}

/** INGEST that refuses every bundle of `stream` (the job fails and is retried) and records the rest. */
function ingestRefusing(stream: string) {
  const accepted = recordingQueue();
  const refuses = (body: unknown) => {
    const unpacked = unpackMessageBody(body);
    return unpacked.ok && (unpacked.value as { stream?: string }).stream === stream;
  };
  return {
    accepted,
    async send(body: unknown, options?: { delaySeconds?: number }) {
      if (refuses(body)) throw new Error(`injected: INGEST refused a ${stream} bundle`);
      await accepted.send(body, options);
    },
    async sendBatch(batch: { body: unknown; delaySeconds?: number }[]) {
      if (batch.some((m) => refuses(m.body))) throw new Error(`injected: INGEST refused a ${stream} bundle`);
      await accepted.sendBatch(batch);
    },
  };
}

describe("JOBS consumer: a batch's jobs run concurrently", () => {
  it("given three poll jobs of one source in one batch and a slow vendor, when consumed, then two runs overlap, the source's rate gate holds across them, and the one that fails is retried alone", async () => {
    const vendor = slowDemoVendor();
    const ingest = ingestRefusing("orders");
    const env = {
      ...pollEnv({ DEMO_VENDOR_URL: VENDOR, DEMO_VENDOR_TOKEN: DEMO_TOKEN, RATE_LIMITER: workerEnv.RATE_LIMITER, RATE_FRACTION: "0.5" }),
      INGEST: ingest,
    };
    const batch = createMessageBatch("loading-dock-jobs", [
      { id: "m-items", timestamp: new Date(), attempts: 1, body: { kind: "poll", source: "demo", stream: "items", run_id: "jc-items" } },
      {
        id: "m-customers",
        timestamp: new Date(),
        attempts: 1,
        body: { kind: "poll", source: "demo", stream: "customers", run_id: "jc-customers" },
      },
      { id: "m-orders", timestamp: new Date(), attempts: 1, body: { kind: "poll", source: "demo", stream: "orders", run_id: "jc-orders" } },
    ]);
    const ctx = createExecutionContext();

    await processJobsBatch(env as never, batch);
    const result = await getQueueResult(batch, ctx);

    // Overlap, as the vendor saw it: customers' first request came before items' last one.
    const times = (stream: string) => vendor.seen.filter((r) => r.stream === stream).map((r) => r.at);
    expect(times("items").length).toBeGreaterThanOrEqual(3);
    expect(times("customers").length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...times("customers"))).toBeLessThan(Math.max(...times("items")));
    expect(Math.min(...times("orders"))).toBeLessThan(Math.max(...times("items")));

    // One gate for the source: 5 requests a second (10/s at 0.5), whatever the jobs; never over the vendor's cap.
    const all = vendor.seen.map((r) => r.at);
    expect(maxInAnyWindow(all, 1000 - JITTER_TOLERANCE_MS)).toBeLessThanOrEqual(5);
    expect(vendor.stats.overCap).toBe(0);
    expect(vendor.stats.throttled).toBe(0);

    // Each job settles on its own: the two that finished are acked, the failed one alone is retried.
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(false);
    expect([...result.explicitAcks].sort()).toEqual(["m-customers", "m-items"]);
    expect(result.retryMessages.map((r: { msgId: string }) => r.msgId)).toEqual(["m-orders"]);
    const runs = await workerEnv.DB.prepare(
      "SELECT id, status, records FROM runs WHERE id IN ('jc-items', 'jc-customers') ORDER BY id",
    ).all<{
      id: string;
      status: string;
      records: number;
    }>();
    expect(runs.results.map((r) => [r.id, r.status])).toEqual([
      ["jc-customers", "succeeded"],
      ["jc-items", "succeeded"],
    ]);
    // Every record of both (keyset continuation may read a few twice: the raw writer dedupes them).
    expect(runs.results.map((r) => r.records >= (r.id === "jc-items" ? 250 : 300))).toEqual([true, true]);
  });

  it("given more jobs than run at once, when consumed, then every job runs and is acked", async () => {
    const vendor = slowDemoVendor();
    const env = pollEnv({ DEMO_VENDOR_URL: VENDOR, DEMO_VENDOR_TOKEN: DEMO_TOKEN, RATE_LIMITER: workerEnv.RATE_LIMITER });
    const streams = ["items", "customers", "orders", "plans"];
    const messages = [
      ...streams.map((stream, i) => ({
        id: `n-${i}`,
        timestamp: new Date(),
        attempts: 1,
        body: { kind: stream === "plans" ? "full_refresh" : "poll", source: "demo", stream, run_id: `jn-${stream}` },
      })),
      { id: "n-4", timestamp: new Date(), attempts: 1, body: { kind: "prune" } },
      { id: "n-5", timestamp: new Date(), attempts: 1, body: { kind: "no such kind" } },
    ];
    const batch = createMessageBatch("loading-dock-jobs", messages);
    const ctx = createExecutionContext();

    await processJobsBatch(env as never, batch);
    const result = await getQueueResult(batch, ctx);

    expect([...result.explicitAcks].sort()).toEqual(["n-0", "n-1", "n-2", "n-3", "n-4", "n-5"]);
    expect(result.retryMessages).toEqual([]);
    expect(new Set(vendor.seen.map((r) => r.stream))).toEqual(new Set(streams));
  });
});
