import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDemoVendor } from "../../demo/app";
import { DEMO_TOKEN } from "../../demo/fixtures";
import { localGate, SlotSchedule, slotIntervalMs } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { demo } from "../../src/sources/demo";
import { readEnvelopes } from "../helpers/raw-zone";
import { deliverIngest, fakeClock, pollEnv, quietLogs } from "./helpers";

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

const auth = { authorization: `Bearer ${DEMO_TOKEN}` };

describe("demo vendor", () => {
  it("given more requests than its cap in one second, then it answers 429 with Retry-After and RateLimit-Reset", async () => {
    const { app, stats } = createDemoVendor({ cap: { requests: 3, perSeconds: 1 }, failRate: 0, now: () => 1_000_000 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await app.fetch(new Request("http://demo.test/v1/plans", { headers: auth }));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.headers.get("retry-after")).toBe("1");
    expect(last?.headers.get("ratelimit-reset")).toBe("1");
    expect(stats.overCap).toBe(1);
  });

  it("given a request without the token, then it answers 401", async () => {
    const { app } = createDemoVendor({ failRate: 0 });
    expect((await app.fetch(new Request("http://demo.test/v1/items"))).status).toBe(401);
  });

  it("given 429 bursts and 5% 503s, when the demo source is polled with a fake clock, then every record lands and the retries waited", async () => {
    const clock = fakeClock();
    const { app, stats } = createDemoVendor({ items: 240, failRate: 0.05, burst429: { every: 4, length: 1 }, now: clock.now, seed: 7 });
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input as RequestInfo, init);
      if (!req.url.startsWith("http://demo.vendor.test/")) return new Response("unexpected", { status: 418 });
      return app.fetch(req);
    });
    const env = pollEnv({ DEMO_VENDOR_URL: "http://demo.vendor.test", DEMO_VENDOR_TOKEN: DEMO_TOKEN });
    const gate = localGate("demo", slotIntervalMs({ requests: 10, perSeconds: 1 }, 0.5), clock, new SlotSchedule());

    const out = await runPollStep(env, demo, { kind: "poll", source: "demo", stream: "items", run_id: "demo-bursty" }, { clock, gate });
    await deliverIngest(env.INGEST);

    // Keyset continuation re-reads the ties at each page boundary; dedupe absorbs them (the key count below).
    expect(out.status).toBe("succeeded");
    expect(out.records).toBeGreaterThanOrEqual(240);
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.overCap).toBe(0);
    expect(clock.sleeps.filter((ms) => ms >= 1000).length).toBeGreaterThanOrEqual(stats.throttled);
    expect(new Set((await readEnvelopes("raw/source=demo/stream=items/")).map((e) => e._dock.key)).size).toBe(240);
  });
});
