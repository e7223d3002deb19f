import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cursorPage, demoItems } from "../../demo/fixtures";
import { loadRun } from "../../src/pollers/run-store";
import { JITTER_TOLERANCE_MS, localGate, openGate, SlotSchedule, slotIntervalMs } from "../../src/pollers/rate-gate";
import { backoffMs, requestedWaitMs } from "../../src/pollers/retry";
import { runPollStep } from "../../src/pollers/run-poll";
import { restAuth } from "../../src/sources/rest/auth";
import { aSource, fakeClock, only, pollEnv, quietLogs, VendorMock } from "./helpers";

const BASE = "https://api.vendor.test/v1/items";
const tokenPages = { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" } as const;

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

/** A vendor with `pages` pages of 3 items chained by tokens t1, t2, … */
function chained(vendor: VendorMock, pages: number, prefix = "item") {
  const items = demoItems(pages * 3, 1, prefix);
  for (let p = 0; p < pages; p++) {
    const url = p === 0 ? `${BASE}?limit=3` : `${BASE}?limit=3&cursor=t${p}`;
    vendor.on(url, { body: cursorPage(items.slice(p * 3, p * 3 + 3), p + 1 < pages ? `t${p + 1}` : null) });
  }
  return vendor;
}

function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + windowMs) j++;
    max = Math.max(max, j - i);
  }
  return max;
}

describe("poll engine: rate limits", () => {
  it("given a cap of 10 req/s at fraction 0.5, when a run reads 12 pages, then no one-second window holds more than 5 requests", async () => {
    const clock = fakeClock();
    const vendor = chained(new VendorMock(), 12);
    vendor.clock = clock;
    vendor.install();
    const source = aSource({ pagination: tokenPages }, { rateLimit: { requests: 10, perSeconds: 1 } });
    const gate = localGate(source.name, slotIntervalMs({ requests: 10, perSeconds: 1 }, 0.5), clock, new SlotSchedule());

    const out = await runPollStep(pollEnv(), source, { kind: "poll", source: source.name, stream: "items" }, { clock, gate });

    expect(out).toMatchObject({ status: "succeeded", pages: 12 });
    const times = vendor.requests.map((r) => r.at as number);
    expect(maxInAnyWindow(times, 1000)).toBeLessThanOrEqual(5);
    // …and the allowance is used, not wasted: 12 requests in 11 slots of 200 ms.
    expect((times.at(-1) as number) - (times[0] as number)).toBeLessThan(11 * 201);
  });

  it("given three streams of one source polled at once, when they share the Durable Object limiter, then together they stay within cap x fraction per second", async () => {
    const vendor = new VendorMock();
    const streams = ["a", "b", "c"].map((p) => {
      const url = `https://api.vendor.test/v1/${p}`;
      const items = demoItems(15, 1, p);
      for (let k = 0; k < 5; k++) {
        vendor.on(k === 0 ? `${url}?limit=3` : `${url}?limit=3&cursor=t${k}`, {
          body: cursorPage(items.slice(k * 3, k * 3 + 3), k < 4 ? `t${k + 1}` : null),
        });
      }
      return { ...only(aSource({ pagination: tokenPages })), name: p, path: `/v1/${p}` };
    });
    const source = { ...aSource({ pagination: tokenPages }), rateLimit: { requests: 20, perSeconds: 1 }, streams };
    vendor.clock = { now: () => Date.now() };
    vendor.install();
    const env = pollEnv({ RATE_LIMITER: workerEnv.RATE_LIMITER, RATE_FRACTION: "0.5" });

    const outs = await Promise.all(streams.map((s) => runPollStep(env, source, { kind: "poll", source: source.name, stream: s.name })));

    expect(vendor.unexpected).toEqual([]);
    expect(outs.map((o) => o.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(vendor.requests).toHaveLength(15);
    const times = vendor.requests.map((r) => r.at as number);
    // Slots are 100 ms apart (10/s); arrivals may drift by up to the jitter tolerance, never by more.
    expect(maxInAnyWindow(times, 1000 - JITTER_TOLERANCE_MS)).toBeLessThanOrEqual(10);
    // The vendor's own cap holds in every second with the tolerance to spare.
    expect(maxInAnyWindow(times, 1000 + JITTER_TOLERANCE_MS)).toBeLessThanOrEqual(20);
  });
});

describe("poll engine: retries", () => {
  it("given a 429 with Retry-After: 2, when polled, then the next request waits at least 2 s", async () => {
    const clock = fakeClock();
    const vendor = new VendorMock().on(
      `${BASE}?limit=3`,
      { status: 429, headers: { "retry-after": "2" }, body: "{}" },
      { body: cursorPage(demoItems(2), null) },
    );
    vendor.clock = clock;
    vendor.install();
    const source = aSource({ pagination: tokenPages });

    const out = await runPollStep(pollEnv(), source, { kind: "poll", source: source.name, stream: "items" }, { clock, gate: openGate });

    expect(out.status).toBe("succeeded");
    expect(vendor.requests).toHaveLength(2);
    expect((vendor.requests[1]?.at as number) - (vendor.requests[0]?.at as number)).toBeGreaterThanOrEqual(2000);
  });

  it("given Retry-After as an HTTP date, RateLimit-Reset or X-RateLimit-Reset, then the requested wait is read from each", () => {
    const now = Date.parse("2026-11-25T08:00:00Z");
    expect(requestedWaitMs(new Headers({ "retry-after": "Wed, 25 Nov 2026 08:00:07 GMT" }), now)).toBe(7000);
    expect(requestedWaitMs(new Headers({ "retry-after": "3" }), now)).toBe(3000);
    expect(requestedWaitMs(new Headers({ "ratelimit-reset": "4" }), now)).toBe(4000);
    expect(requestedWaitMs(new Headers({ "x-ratelimit-reset": String(now / 1000 + 9) }), now)).toBe(9000);
    expect(requestedWaitMs(new Headers({ "x-ratelimit-reset": String(now + 1500) }), now)).toBe(1500);
    expect(requestedWaitMs(new Headers({ "retry-after": "soon" }), now)).toBeUndefined();
  });

  it("given 502, 503, 504 and a network error, when polled, then each is retried and the run succeeds", async () => {
    const clock = fakeClock();
    let failures = 0;
    const vendor = new VendorMock().on(
      `${BASE}?limit=3`,
      { status: 502 },
      { status: 503 },
      { status: 504 },
      { body: cursorPage(demoItems(1), null) },
    );
    const spy = vendor.install();
    const real = spy.getMockImplementation();
    spy.mockImplementation(async (input, init) => {
      if (failures++ === 0) throw new TypeError("connection reset");
      return (real as typeof fetch)(input, init);
    });
    const source = aSource({ pagination: tokenPages });

    const out = await runPollStep(pollEnv(), source, { kind: "poll", source: source.name, stream: "items" }, { clock, gate: openGate });

    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(clock.sleeps).toHaveLength(4);
    expect(clock.sleeps.every((ms) => ms > 0)).toBe(true);
  });

  it("given a vendor that keeps answering 503, when the run's retry budget is spent, then the run fails saying so", async () => {
    const vendor = new VendorMock().on(`${BASE}?limit=3`, { status: 503 });
    vendor.install();
    const source = aSource({ pagination: tokenPages });

    const out = await runPollStep(
      pollEnv(),
      source,
      { kind: "poll", source: source.name, stream: "items" },
      { clock: fakeClock(), gate: openGate, retriesPerRun: 3 },
    );

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/retry budget spent.*503/);
    expect(vendor.requests).toHaveLength(4);
  });

  it("given a 404, when polled, then the run fails at once with the URL (key redacted), the status and the start of the body", async () => {
    const vendor = new VendorMock().on(`${BASE}?limit=3&api_key=sk_live_abc123secret`, {
      status: 404,
      body: '{"error":"no such resource: items"}',
    });
    vendor.install();
    const source = aSource(
      { pagination: tokenPages },
      { auth: restAuth({ type: "api_key", in: "query", name: "api_key", key: { env: "VENDOR_KEY" } }) },
    );

    const out = await runPollStep(
      pollEnv({ VENDOR_KEY: "sk_live_abc123secret" }),
      source,
      { kind: "poll", source: source.name, stream: "items" },
      {
        clock: fakeClock(),
        gate: openGate,
      },
    );

    expect(vendor.requests).toHaveLength(1);
    expect(out.status).toBe("failed");
    expect(out.error).toContain("https://api.vendor.test/v1/items");
    expect(out.error).toContain("404");
    expect(out.error).toContain("no such resource: items");
    expect(out.error).not.toContain("abc123secret");
    const run = await loadRun(workerEnv.DB, out.runId);
    expect(run?.status).toBe("failed");
  });

  it("given a Retry-After longer than a Worker should wait, when polled, then the run hands over to a delayed continuation that finishes it", async () => {
    const vendor = new VendorMock().on(
      `${BASE}?limit=3`,
      { status: 429, headers: { "retry-after": "120" } },
      { body: cursorPage(demoItems(2), null) },
    );
    vendor.install();
    const source = aSource({ pagination: tokenPages });
    const env = pollEnv();
    const job = { kind: "poll" as const, source: source.name, stream: "items", run_id: `defer-${source.name}` };

    const first = await runPollStep(env, source, job, { clock: fakeClock(), gate: openGate });
    expect(first.status).toBe("deferred");
    expect(env.JOBS.messages).toHaveLength(1);
    expect(env.JOBS.messages[0]?.delaySeconds).toBeGreaterThanOrEqual(120);
    expect(env.JOBS.messages[0]?.body).toMatchObject({ kind: "poll", run_id: job.run_id });

    const resumed = await runPollStep(env, source, env.JOBS.messages[0]?.body as typeof job, { clock: fakeClock(), gate: openGate });
    expect(resumed).toMatchObject({ status: "succeeded", records: 2 });
  });
});

describe("poll engine: jitter", () => {
  it("given 20 workers told the same Retry-After, then all wait at least that long and no two return in the same instant", () => {
    const delays = Array.from({ length: 20 }, () => backoffMs(0, 1000));
    expect(Math.min(...delays)).toBeGreaterThan(1000);
    expect(new Set(delays).size).toBe(20);
  });

  it("given the worst random draw (0), then the jitter is still not zero, and with the largest draw it stays under the ceiling", () => {
    expect(backoffMs(0, undefined, { random: () => 0 })).toBeGreaterThan(0);
    expect(backoffMs(0, 1000, { random: () => 0 })).toBeGreaterThan(1000);
    expect(backoffMs(3, undefined, { random: () => 0.999999, baseMs: 500 })).toBeLessThanOrEqual(4000);
    expect(backoffMs(30, undefined, { random: () => 0.5, capMs: 60_000 })).toBeLessThanOrEqual(60_000);
  });
});
