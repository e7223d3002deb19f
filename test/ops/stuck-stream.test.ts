import { createMessageBatch } from "cloudflare:test";
import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDemoVendor } from "../../demo/app";
import { DEMO_TOKEN } from "../../demo/fixtures";
import { streamStatus } from "../../src/admin/status";
import { processJobsBatch } from "../../src/queue-consumers/jobs-consumer";
import { sources } from "../../src/sources/registry";
import { dispatch } from "../helpers/dispatch";
import { pollEnv, quietLogs } from "../pollers/helpers";
import { clearOps } from "./seed";

const OUTAGE = "Queue send failed: 503 queue temporarily overloaded";

let n = 0;
/** One JOBS message as the queue delivers it on its nth attempt, with its ack and retry watched. */
function delivery(body: unknown, attempts: number) {
  const batch = createMessageBatch("loading-dock-jobs", [{ id: `stuck-${++n}`, timestamp: new Date(), attempts, body }]);
  const message = batch.messages[0] as Message<unknown>;
  return { batch, ack: vi.spyOn(message, "ack"), retry: vi.spyOn(message, "retry") };
}

/** The demo vendor behind fetch; the Worker's INGEST queue refusing every send (an outage of the binding). */
function vendorUpQueueDown() {
  const { app } = createDemoVendor({ items: 4, failRate: 0, cap: { requests: 1000, perSeconds: 1 } });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    return req.url.startsWith("http://demo.vendor.test/") ? app.fetch(req) : new Response("unexpected", { status: 418 });
  });
  const failing = {
    send: async () => {
      throw new Error(OUTAGE);
    },
    sendBatch: async () => {
      throw new Error(OUTAGE);
    },
  };
  return pollEnv({ DEMO_VENDOR_URL: "http://demo.vendor.test", DEMO_VENDOR_TOKEN: DEMO_TOKEN, INGEST: failing as never });
}

const runRow = (id: string) =>
  workerEnv.DB.prepare("SELECT status, error FROM runs WHERE id = ?1").bind(id).first<{ status: string; error: string | null }>();

beforeEach(async () => {
  quietLogs();
  await clearOps();
});
afterEach(() => vi.restoreAllMocks());

describe("why a stream is stuck: the error of a job that keeps failing", () => {
  it("given a poll job whose every attempt throws, when the queue retries it, then its run notes the error, GET /status and the status page give it as the stream's reason, and the run abandoned later keeps it", async () => {
    const env = vendorUpQueueDown();
    const job = { kind: "poll", source: "demo", stream: "items", run_id: "poll-stuck-1" };
    for (const attempts of [1, 2, 3]) {
      const d = delivery(job, attempts);
      await processJobsBatch(env as never, d.batch);
      expect(d.retry).toHaveBeenCalledOnce();
      expect(d.ack).not.toHaveBeenCalled();
    }
    const run = await runRow("poll-stuck-1");
    expect(run?.status).toBe("running");
    expect(run?.error).toMatch(new RegExp(`^job attempt 3 failed at \\S+Z: ${OUTAGE}$`));

    const status = await streamStatus(workerEnv.DB, sources, new Date(Date.now() + 40 * 60_000));
    const stream = status.streams.find((s) => s.source === "demo" && s.stream === "items");
    expect(stream?.state).toBe("late");
    expect(stream?.last_run).toMatchObject({ id: "poll-stuck-1", status: "running", error: run?.error });
    expect(stream?.reason).toBe(`the running run's job keeps failing and is being retried: ${run?.error}; no last successful run yet`);
    expect(status.problems).toContain(`demo.items is late: ${stream?.reason}`);

    const page = await (
      await dispatch(new Request("https://dock.example/", { headers: { cookie: "dock_admin=test-admin-token" } }))
    ).text();
    expect(page).toContain(OUTAGE);

    // The job is given up (dead-lettered); 31 minutes on, the next scheduled run takes the stream over.
    await workerEnv.DB.prepare("UPDATE poll_schedule SET heartbeat_at = ?1 WHERE active_run_id = 'poll-stuck-1'")
      .bind(new Date(Date.now() - 31 * 60_000).toISOString())
      .run();
    const next = delivery({ ...job, run_id: "poll-stuck-2" }, 1);
    await processJobsBatch(env as never, next.batch);
    const abandoned = await runRow("poll-stuck-1");
    expect(abandoned?.status).toBe("failed");
    expect(abandoned?.error).toMatch(new RegExp(`^abandoned: no heartbeat since \\S+; job attempt 3 failed at \\S+Z: ${OUTAGE}$`));
  });

  it("given a job that failed once, when its retry succeeds, then the note is cleared and the stream's reason no longer carries it", async () => {
    const env = vendorUpQueueDown();
    const job = { kind: "poll", source: "demo", stream: "items", run_id: "poll-stuck-3" };
    await processJobsBatch(env as never, delivery(job, 1).batch);
    expect((await runRow("poll-stuck-3"))?.error).toContain(OUTAGE);

    const healthy = pollEnv({ DEMO_VENDOR_URL: "http://demo.vendor.test", DEMO_VENDOR_TOKEN: DEMO_TOKEN });
    const retried = delivery(job, 2);
    await processJobsBatch(healthy as never, retried.batch);
    expect(retried.ack).toHaveBeenCalledOnce();
    const after = await runRow("poll-stuck-3");
    expect(after?.error).toBeNull();
    const stream = (await streamStatus(workerEnv.DB, sources)).streams.find((s) => s.source === "demo" && s.stream === "items");
    expect(stream?.reason).not.toContain("keeps failing");
  });
});
