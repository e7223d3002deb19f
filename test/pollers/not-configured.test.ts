import { createMessageBatch } from "cloudflare:test";
import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDemoVendor } from "../../demo/app";
import { DEMO_TOKEN } from "../../demo/fixtures";
import { streamStatus } from "../../src/admin/status";
import { duePollJobs } from "../../src/pollers/schedule";
import { runPollStep } from "../../src/pollers/run-poll";
import { openGate } from "../../src/pollers/rate-gate";
import type { PollSource } from "../../src/pollers/types";
import { processJobsBatch } from "../../src/queue-consumers/jobs-consumer";
import { defineRestSource } from "../../src/sources/rest/define-rest-source";
import { sources } from "../../src/sources/registry";
import { dispatch } from "../helpers/dispatch";
import { clearOps } from "../ops/seed";
import { deliverIngest, fakeClock, pollEnv, quietLogs } from "./helpers";

beforeEach(async () => {
  quietLogs();
  await clearOps();
});
afterEach(() => vi.restoreAllMocks());

let n = 0;
/** One JOBS message as the queue delivers it, with its ack and retry watched. */
function jobMessage(body: unknown) {
  const batch = createMessageBatch("loading-dock-jobs", [{ id: `nc-${++n}`, timestamp: new Date(), attempts: 1, body }]);
  const message = batch.messages[0] as Message<unknown>;
  const ack = vi.spyOn(message, "ack");
  const retry = vi.spyOn(message, "retry");
  return { batch, ack, retry };
}

/** Every request that leaves the Worker; none may, for a source that is not configured. */
function watchFetch() {
  return vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("no request was expected", { status: 418 }));
}

const runRow = (id: string) =>
  workerEnv.DB.prepare("SELECT status, error, finished_at FROM runs WHERE id = ?1")
    .bind(id)
    .first<{ status: string; error: string | null; finished_at: string | null }>();

describe("a source that is not configured fails the run, not the job", () => {
  it("given the demo source's base-URL variable unset, when a poll job of it is consumed, then the run is failed naming DEMO_VENDOR_URL, the job is acked, and no request is made", async () => {
    const fetch = watchFetch();
    const env = pollEnv({ DEMO_VENDOR_TOKEN: DEMO_TOKEN });
    const { batch, ack, retry } = jobMessage({ kind: "poll", source: "demo", stream: "items", run_id: "poll-nc-unset" });

    await processJobsBatch(env as never, batch);

    expect(retry).not.toHaveBeenCalled();
    expect(ack).toHaveBeenCalledOnce();
    const run = await runRow("poll-nc-unset");
    expect(run?.status).toBe("failed");
    expect(run?.error).toBe("source demo is not configured: set DEMO_VENDOR_URL (its base URL)");
    expect(run?.finished_at).not.toBeNull();
    expect(fetch).not.toHaveBeenCalled();
    expect(env.JOBS.messages).toEqual([]);
  });

  it("given that failed run, when the variable is set and the next scheduled run comes, then it is not skipped as busy and it succeeds", async () => {
    const unset = pollEnv({ DEMO_VENDOR_TOKEN: DEMO_TOKEN });
    const first = jobMessage({ kind: "poll", source: "demo", stream: "items", run_id: "poll-nc-first" });
    await processJobsBatch(unset as never, first.batch);
    expect((await runRow("poll-nc-first"))?.status).toBe("failed");
    // The stream is free again (no live run holds it) and due after its interval, as after any failed run.
    const schedule = await workerEnv.DB.prepare(
      "SELECT active_run_id, last_status, last_error, next_due_at FROM poll_schedule WHERE source = 'demo' AND stream = 'items'",
    ).first<{ active_run_id: string | null; last_status: string; last_error: string; next_due_at: string }>();
    expect(schedule).toMatchObject({ active_run_id: null, last_status: "failed" });
    expect(schedule?.last_error).toContain("DEMO_VENDOR_URL");

    const { app } = createDemoVendor({ items: 4, failRate: 0, cap: { requests: 1000, perSeconds: 1 } });
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init);
      if (!req.url.startsWith("http://demo.vendor.test/")) return new Response("unexpected", { status: 418 });
      return app.fetch(req);
    });
    const configured = pollEnv({ DEMO_VENDOR_URL: "http://demo.vendor.test", DEMO_VENDOR_TOKEN: DEMO_TOKEN });
    const due = await duePollJobs(workerEnv.DB, sources, configured, new Date(Date.parse(schedule?.next_due_at ?? "") + 1000));
    const next = due.find((j) => j.source === "demo" && j.stream === "items");
    expect(next).toBeDefined();
    const second = jobMessage(next);
    await processJobsBatch(configured as never, second.batch);
    await deliverIngest(configured.INGEST);

    expect(second.ack).toHaveBeenCalledOnce();
    expect(await runRow(next?.run_id ?? "")).toMatchObject({ status: "succeeded", error: null });
  });

  it("given a run that failed for an unset variable, then `dock runs` (GET /admin/runs), GET /status and the status page show what to set", async () => {
    watchFetch();
    const { batch } = jobMessage({ kind: "poll", source: "demo", stream: "items", run_id: "poll-nc-shown" });
    await processJobsBatch(pollEnv({ DEMO_VENDOR_TOKEN: DEMO_TOKEN }) as never, batch);
    vi.restoreAllMocks();
    const admin = { authorization: "Bearer test-admin-token" };

    const listed = (await (await dispatch(new Request("https://dock.example/admin/runs?source=demo", { headers: admin }))).json()) as {
      runs: { id: string; status: string; error: string }[];
    };
    expect(listed.runs).toEqual([
      expect.objectContaining({ id: "poll-nc-shown", status: "failed", error: expect.stringContaining("set DEMO_VENDOR_URL") }),
    ]);

    const status = await streamStatus(workerEnv.DB, sources);
    const stream = status.streams.find((s) => s.source === "demo" && s.stream === "items");
    expect(stream?.state).toBe("failing");
    expect(stream?.reason).toContain("set DEMO_VENDOR_URL");
    expect(status.problems.join("\n")).toContain("demo.items is failing");

    const page = await (
      await dispatch(new Request("https://dock.example/", { headers: { cookie: "dock_admin=test-admin-token" } }))
    ).text();
    expect(page).toContain("set DEMO_VENDOR_URL (its base URL)");
  });

  it("given scheduled streams whose source's variables are then removed, when the tick runs, then each gets one failed run saying what to set, shown on the status; a second tick adds none; configured again, they run when due", async () => {
    const configured = pollEnv({ DEMO_VENDOR_URL: "http://demo.vendor.test", DEMO_VENDOR_TOKEN: DEMO_TOKEN });
    const t0 = new Date("2026-11-25T09:00:00Z");
    const first = await duePollJobs(workerEnv.DB, sources, configured, t0);
    expect(first.filter((j) => j.source === "demo").map((j) => j.stream)).toEqual(["items", "customers", "orders"]);
    const demoRuns = () =>
      workerEnv.DB.prepare("SELECT stream, pattern, status, error FROM runs WHERE source = 'demo' ORDER BY stream").all<{
        stream: string;
        pattern: string;
        status: string;
        error: string;
      }>();

    const unset = pollEnv();
    const later = new Date(t0.getTime() + 10 * 60_000);
    expect(await duePollJobs(workerEnv.DB, sources, unset, later)).toEqual([]);
    const error = "source demo is not configured: set DEMO_VENDOR_URL (its base URL); its credentials need DEMO_VENDOR_TOKEN";
    expect((await demoRuns()).results).toEqual(
      ["customers", "items", "orders"].map((stream) => ({ stream, pattern: "poll", status: "failed", error })),
    );
    const status = await streamStatus(workerEnv.DB, sources, later);
    expect(status.streams.find((s) => s.source === "demo" && s.stream === "items")).toMatchObject({
      state: "failing",
      reason: `1 failed run(s) in a row: ${error}`,
    });

    await duePollJobs(workerEnv.DB, sources, unset, new Date(later.getTime() + 10 * 60_000));
    expect((await demoRuns()).results).toHaveLength(3);

    const again = await duePollJobs(workerEnv.DB, sources, configured, new Date(later.getTime() + 20 * 60_000));
    expect(again.filter((j) => j.source === "demo").map((j) => j.stream)).toEqual(["items", "customers", "orders"]);
  });

  it("given the base URL set but its credential unset, when a run starts, then it fails naming the credential before any request", async () => {
    const fetch = watchFetch();
    const env = pollEnv({ DEMO_VENDOR_URL: "http://demo.vendor.test" });
    const out = await runPollStep(env, sources.find((s) => s.name === "demo") as PollSource, {
      kind: "poll",
      source: "demo",
      stream: "items",
      run_id: "poll-nc-token",
    });
    expect(out).toMatchObject({ status: "failed", error: "source demo is not configured: its credentials need DEMO_VENDOR_TOKEN" });
    expect((await runRow("poll-nc-token"))?.status).toBe("failed");
    expect(fetch).not.toHaveBeenCalled();
  });

  it("given a base URL that is set but is not a URL, then the stream is still scheduled and its run fails saying so, its job acked", async () => {
    const fetch = watchFetch();
    const env = pollEnv({ DEMO_VENDOR_URL: "demo.vendor.test:8788", DEMO_VENDOR_TOKEN: DEMO_TOKEN });
    const due = await duePollJobs(workerEnv.DB, sources, env, new Date());
    const job = due.find((j) => j.source === "demo" && j.stream === "items");
    expect(job).toBeDefined();
    const { batch, ack, retry } = jobMessage(job);

    await processJobsBatch(env as never, batch);

    expect(retry).not.toHaveBeenCalled();
    expect(ack).toHaveBeenCalledOnce();
    expect(await runRow(job?.run_id ?? "")).toMatchObject({
      status: "failed",
      error: 'source demo: base URL "demo.vendor.test:8788" is not an http(s) URL',
    });
    expect(fetch).not.toHaveBeenCalled();
  });

  it("given a source whose configuration throws a plain error (a rate-limit function), when its job runs, then the run fails with the reason and the job is acked", async () => {
    const source: PollSource = {
      name: "ncratelimit",
      baseUrl: "https://api.vendor.test",
      rateLimit: (env) => {
        const perSecond = Number(env.NCRATELIMIT_RPS);
        if (!(perSecond > 0)) throw new Error("NCRATELIMIT_RPS must be a positive number");
        return { requests: perSecond, perSeconds: 1 };
      },
      streams: [{ name: "items", path: "/v1/items", records: "data", primaryKey: "id", pagination: { style: "none" } }],
    };
    const fetch = watchFetch();
    const out = await runPollStep(pollEnv({ NCRATELIMIT_RPS: "fast" }), source, {
      kind: "poll",
      source: source.name,
      stream: "items",
      run_id: "poll-nc-rate",
    });
    expect(out).toMatchObject({
      status: "failed",
      error: "source ncratelimit: its configuration cannot be read: NCRATELIMIT_RPS must be a positive number",
    });
    expect((await runRow("poll-nc-rate"))?.status).toBe("failed");
    expect(fetch).not.toHaveBeenCalled();
  });

  it("given a stepped stream whose source's base URL variable is unset, when its job is consumed, then the run fails naming it and the job is acked", async () => {
    const stepped = defineRestSource({
      name: "ncstepped",
      title: "a declarative source, given a stepped stream below",
      baseUrl: { env: "NCSTEPPED_URL" },
      streams: [{ name: "items", path: "/v1/items", records: "data", primaryKey: "id", pagination: { style: "none" } }],
    });
    const source: PollSource = {
      ...stepped,
      streams: [
        {
          name: "export",
          path: "",
          records: "",
          primaryKey: "id",
          pagination: { style: "none" },
          steps: { step: async () => ({ next: "done" }) },
        },
      ],
    };
    const fetch = watchFetch();
    const clock = fakeClock();
    const out = await runPollStep(
      pollEnv(),
      source,
      { kind: "poll", source: "ncstepped", stream: "export", run_id: "poll-nc-stepped" },
      {
        clock,
        gate: openGate,
      },
    );
    expect(out).toMatchObject({ status: "failed", error: "source ncstepped is not configured: set NCSTEPPED_URL (its base URL)" });
    expect((await runRow("poll-nc-stepped"))?.status).toBe("failed");
    expect(fetch).not.toHaveBeenCalled();
  });
});
