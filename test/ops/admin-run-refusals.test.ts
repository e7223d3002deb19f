import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { DEMO_TOKEN } from "../../demo/fixtures";
import { adminRoutes } from "../../src/admin/routes";
import { clearOps } from "./seed";

const TOKEN = "test-admin-token";
/** The registry's sources, as deployed: `demo` is polled only where DEMO_VENDOR_URL and DEMO_VENDOR_TOKEN are set. */
const app = adminRoutes();

function recordingJobs() {
  const sent: unknown[] = [];
  return { sent, queue: { send: async (body: unknown) => void sent.push(body) } as unknown as Queue<unknown> };
}
let jobs = recordingJobs();

function call(method: string, path: string, body: unknown, vars: Record<string, string> = {}) {
  return app.fetch(
    new Request(`https://dock.example${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    { ...unconfigured, ...vars, JOBS: jobs.queue },
  );
}
const configured = { DEMO_VENDOR_URL: "http://demo.vendor.test", DEMO_VENDOR_TOKEN: DEMO_TOKEN };
// The pool also reads a local .dev.vars (npm start writes one with DEMO_VENDOR_TOKEN): start from neither.
const { DEMO_VENDOR_URL: _url, DEMO_VENDOR_TOKEN: _token, ...unconfigured } = env as unknown as Record<string, unknown>;

describe("admin run-now and backfill of sources that are not configured, and of full refreshes", () => {
  beforeEach(async () => {
    await clearOps();
    jobs = recordingJobs();
  });

  it("given the demo source with nothing set, when run-now is called, then 422 names every variable to set, nothing is queued, and the refusal is audited", async () => {
    const res = await call("POST", "/admin/streams/demo/items/run", {});

    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: "source demo is not configured: set DEMO_VENDOR_URL (its base URL); its credentials need DEMO_VENDOR_TOKEN",
      missing: ["DEMO_VENDOR_URL", "DEMO_VENDOR_TOKEN"],
    });
    expect(jobs.sent).toEqual([]);
    expect(await env.DB.prepare("SELECT action, status FROM admin_audit").all()).toMatchObject({
      results: [{ action: "run stream", status: 422 }],
    });
  });

  it("given its base URL set but its credential not, when run-now is called, then 422 names the credential; once both are set, then a poll is queued", async () => {
    const half = await call("POST", "/admin/streams/demo/items/run", {}, { DEMO_VENDOR_URL: configured.DEMO_VENDOR_URL });
    expect(half.status).toBe(422);
    expect(await half.json()).toMatchObject({ missing: ["DEMO_VENDOR_TOKEN"] });
    expect(jobs.sent).toEqual([]);

    const whole = await call("POST", "/admin/streams/demo/items/run", {}, configured);
    expect(whole.status).toBe(202);
    expect(jobs.sent).toEqual([expect.objectContaining({ kind: "poll", source: "demo", stream: "items" })]);
  });

  it("given built-in sources with nothing set, when run-now is called, then 422 names the variables each needs", async () => {
    const ads = await call(
      "POST",
      "/admin/streams/google_ads/campaigns/run",
      { pattern: "full_refresh" },
      { GOOGLE_ADS_CUSTOMER_IDS: "1" },
    );
    expect(ads.status).toBe(422);
    expect(await ads.json()).toEqual({
      error: "source google_ads: Google Ads is not configured: set GOOGLE_ADS_DEVELOPER_TOKEN",
      missing: ["GOOGLE_ADS_DEVELOPER_TOKEN"],
    });
    const stripe = await call("POST", "/admin/streams/stripe/events/run", {});
    expect(stripe.status).toBe(422);
    expect(await stripe.json()).toEqual({ error: "source stripe: not configured: set STRIPE_API_KEY", missing: ["STRIPE_API_KEY"] });
    expect(jobs.sent).toEqual([]);
  });

  it("given a source that is not configured, when a backfill is asked for, then 422 and its cursor is not moved", async () => {
    await env.DB.prepare("INSERT INTO cursors VALUES ('demo', 'items', '2026-11-20T00:00:00.000Z', 'r1', '2026-11-20T00:00:00Z')").run();

    const res = await call("POST", "/admin/streams/demo/items/backfill", { from: "2026-11-01T00:00:00Z" });

    expect(res.status).toBe(422);
    expect(((await res.json()) as { missing: string[] }).missing).toEqual(["DEMO_VENDOR_URL", "DEMO_VENDOR_TOKEN"]);
    expect(await env.DB.prepare("SELECT cursor FROM cursors WHERE source = 'demo' AND stream = 'items'").first("cursor")).toBe(
      "2026-11-20T00:00:00.000Z",
    );
    expect(jobs.sent).toEqual([]);
  });

  it("given a stream read only as a full refresh, when run-now names no pattern, then 422 says to ask for a full refresh and nothing is queued; when asked for, then one is queued", async () => {
    const plain = await call("POST", "/admin/streams/demo/plans/run", {}, configured);
    expect(plain.status).toBe(422);
    expect(((await plain.json()) as { error: string }).error).toBe(
      'stream demo.plans is not polled: it is read only as a full refresh; ask for one (pattern "full_refresh", dock run --full-refresh)',
    );
    const asPoll = await call("POST", "/admin/streams/demo/plans/run", { pattern: "poll" }, configured);
    expect(asPoll.status).toBe(422);
    expect(jobs.sent).toEqual([]);

    const asked = await call("POST", "/admin/streams/demo/plans/run", { pattern: "full_refresh" }, configured);
    expect(asked.status).toBe(202);
    expect(jobs.sent).toEqual([expect.objectContaining({ kind: "full_refresh", source: "demo", stream: "plans" })]);
  });

  it("given a stream without a cursor that is read only as a full refresh, when a backfill is asked for, then it is still a full read", async () => {
    const res = await call("POST", "/admin/streams/demo/plans/backfill", { from: "2026-11-01T00:00:00Z" }, configured);
    expect(res.status).toBe(202);
    expect(jobs.sent).toEqual([expect.objectContaining({ kind: "full_refresh", source: "demo", stream: "plans" })]);
  });
});
