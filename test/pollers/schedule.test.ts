import { createMessageBatch } from "cloudflare:test";
import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDemoVendor } from "../../demo/app";
import { DEMO_TOKEN } from "../../demo/fixtures";
import { fullRefreshJobs, duePollJobs } from "../../src/pollers/schedule";
import { processJobsBatch } from "../../src/queue-consumers/jobs-consumer";
import { handleScheduled } from "../../src/scheduled";
import { cursorPage, demoItems } from "../../demo/fixtures";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { claimStream, STALE_AFTER_MS } from "../../src/pollers/run-store";
import { sources } from "../../src/sources/registry";
import { aSource, deliverIngest, fakeClock, pollEnv, quietLogs, VendorMock } from "./helpers";
import { readEnvelopes } from "../helpers/raw-zone";
import { demo } from "../../src/sources/demo";

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

const tokenPages = { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" } as const;

describe("poll engine: scheduling", () => {
  it("given a stream due now, when two ticks run, then one poll job is sent, and the next one only after its interval", async () => {
    const source = aSource({ pagination: tokenPages, intervalMinutes: 10 });
    const now = new Date("2026-11-25T09:00:00Z");

    const first = await duePollJobs(workerEnv.DB, [source], {}, now);
    const again = await duePollJobs(workerEnv.DB, [source], {}, new Date(now.getTime() + 5 * 60_000));
    const later = await duePollJobs(workerEnv.DB, [source], {}, new Date(now.getTime() + 10 * 60_000));

    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: "poll", source: source.name, stream: "items" });
    expect(first[0]?.run_id).toMatch(/^poll-20261125T090000-/);
    expect(again).toEqual([]);
    expect(later).toHaveLength(1);
  });

  it("given the cron tick with the demo vendor configured, when the scheduler runs, then JOBS gets one poll job per demo stream with an interval", async () => {
    const env = pollEnv({ DEMO_VENDOR_URL: "http://127.0.0.1:8788" });
    await handleScheduled({ cron: "*/5 * * * *", scheduledTime: Date.parse("2026-11-25T10:00:00Z") }, env as never);
    const demoJobs = env.JOBS.messages
      .map((m) => m.body as { kind: string; source: string; stream: string })
      .filter((j) => j.source === "demo");
    expect(demoJobs.map((j) => `${j.kind}:${j.stream}`).sort()).toEqual(["poll:customers", "poll:items", "poll:orders"]);
  });

  it("given a stream held by a live run, when a second poll job for it arrives, then it is skipped; once the holder's heartbeat is stale, a new run takes over", async () => {
    const vendor = new VendorMock().on("https://api.vendor.test/v1/items?limit=3", { body: cursorPage(demoItems(1), null) });
    vendor.install();
    const source = aSource({ pagination: tokenPages });
    const env = pollEnv();
    const holder = `poll-holder-${source.name}`;
    const t0 = Date.parse("2026-11-25T09:00:00Z");
    // The holder claimed the stream and then went quiet (its Worker died with the message lost).
    expect(await claimStream(workerEnv.DB, source.name, "items", "poll", holder, new Date(t0))).toBe(true);

    const busy = await runPollStep(
      env,
      source,
      { kind: "poll", source: source.name, stream: "items", run_id: `second${source.name}` },
      {
        clock: fakeClock(t0 + 60_000),
        gate: openGate,
      },
    );
    const later = await runPollStep(
      env,
      source,
      { kind: "poll", source: source.name, stream: "items", run_id: `third${source.name}` },
      {
        clock: fakeClock(t0 + STALE_AFTER_MS + 60_000),
        gate: openGate,
      },
    );

    expect(busy.status).toBe("skipped");
    expect(later.status).toBe("succeeded");
    expect(vendor.requests).toHaveLength(1);
  });

  it("given a source whose base URL comes from an unset env var, then the tick leaves it alone", async () => {
    expect(await duePollJobs(workerEnv.DB, [demo], {}, new Date())).toEqual([]);
    expect(fullRefreshJobs([demo], {}, new Date())).toEqual([]);
  });

  it("given the nightly run, then every stream declared fullRefresh gets a full_refresh job", () => {
    const jobs = fullRefreshJobs(sources, { DEMO_VENDOR_URL: "http://127.0.0.1:8788" }, new Date("2026-11-25T03:17:00Z")).filter(
      (j) => j.source === "demo",
    );
    expect(jobs).toEqual([
      { kind: "full_refresh", source: "demo", stream: "plans", run_id: expect.stringMatching(/^fr-20261125T031700-/) },
    ]);
  });

  it("given a poll job on the JOBS queue for the demo source, when the consumer runs it against the demo vendor, then its records reach the raw zone", async () => {
    const { app, stats } = createDemoVendor({ items: 25, failRate: 0, cap: { requests: 1000, perSeconds: 1 } });
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init);
      if (!req.url.startsWith("http://demo.vendor.test/")) return new Response("unexpected", { status: 418 });
      return app.fetch(req);
    });
    const env = {
      ...pollEnv({ DEMO_VENDOR_URL: "http://demo.vendor.test", DEMO_VENDOR_TOKEN: DEMO_TOKEN, RATE_LIMITER: workerEnv.RATE_LIMITER }),
    };
    const batch = createMessageBatch("loading-dock-jobs", [
      { id: "j1", timestamp: new Date(), attempts: 1, body: { kind: "poll", source: "demo", stream: "items", run_id: "poll-demo-e2e" } },
    ]);

    await processJobsBatch(env as never, batch);
    await deliverIngest(env.INGEST);

    expect(stats.unauthorized).toBe(0);
    const landed = await readEnvelopes("raw/source=demo/stream=items/");
    expect(new Set(landed.map((e) => e._dock.key)).size).toBe(25);
    const run = await workerEnv.DB.prepare("SELECT status, records, cursor_to FROM runs WHERE id = ?").bind("poll-demo-e2e").first();
    expect(run).toMatchObject({ status: "succeeded", records: 25 });
  });
});
