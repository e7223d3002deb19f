import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDemoVendor } from "../../demo/app";
import { DEMO_TOKEN } from "../../demo/fixtures";
import worker from "../../src/index";
import { resetCursor } from "../../src/pollers/cursor";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { demo } from "../../src/sources/demo";
import { ledgerRows } from "../helpers/ledger";
import { listKeys } from "../helpers/raw-zone";
import { pollEnv, quietLogs, recordingQueue, sentIds } from "./helpers";

/**
 * `POST /admin/streams/:source/:stream/test-read` (`dock test-read`): one page of a polled stream,
 * read by the engine as a run reads it, answered instead of landed. The vendor is the demo vendor
 * (demo/app.ts) reached through its documented base-URL variable; every other host is refused.
 */

const VENDOR = "http://demo.vendor.test";
const ADMIN = { authorization: "Bearer test-admin-token", "content-type": "application/json" };

interface Line {
  _dock: { id: string; source: string; stream: string; pattern: string; key: string; version: string; op: string; run_id: string };
  data: { id: string; amount_minor: number; updated_at: string };
}

let unexpected: string[] = [];
let vendorRequests: URL[] = [];

function installVendor(options: Parameters<typeof createDemoVendor>[0] = {}) {
  const vendor = createDemoVendor({ items: 250, failRate: 0, burst429: { every: 0, length: 0 }, ...options });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    if (!req.url.startsWith(`${VENDOR}/`)) {
      unexpected.push(`${req.method} ${req.url}`);
      return new Response("unexpected request", { status: 418 });
    }
    vendorRequests.push(new URL(req.url));
    return vendor.app.fetch(req);
  });
  return vendor;
}

/** The Worker's env with the demo vendor configured and queues that keep (never deliver) what they are sent. */
function workerEnv(vars: Record<string, string | undefined> = { DEMO_VENDOR_URL: VENDOR, DEMO_VENDOR_TOKEN: DEMO_TOKEN }) {
  return { ...env, ...vars, INGEST: recordingQueue(), JOBS: recordingQueue() };
}

async function testRead(e: ReturnType<typeof workerEnv>, stream: string, body: unknown = {}) {
  const ctx = createExecutionContext();
  const req = new Request(`https://dock.example/admin/streams/demo/${stream}/test-read`, {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify(body),
  });
  const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, e as never, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Everything a run would change: the ledger's tables and the raw zone's keys. */
async function written() {
  const table = async (name: string) => (await env.DB.prepare(`SELECT * FROM ${name}`).all()).results;
  return {
    cursors: await table("cursors"),
    runs: await table("runs"),
    schedule: await table("poll_schedule"),
    dedupe: await ledgerRows("dedupe_keys"),
    receipts: await ledgerRows("webhook_receipts"),
    marks: await ledgerRows("object_versions"),
    objects: await table("raw_objects"),
    stats: await table("stream_stats"),
    r2: [...(await listKeys("raw/")), ...(await listKeys("blobs/"))],
  };
}

beforeEach(() => {
  quietLogs();
  unexpected = [];
  vendorRequests = [];
});
afterEach(() => vi.restoreAllMocks());

describe("test-read: one page shown, nothing landed", () => {
  it("given the demo vendor and a stored cursor, when demo.items is test-read, then it prints the page's envelopes, the cursor a run would move to and the next page, and writes nothing", async () => {
    installVendor();
    await resetCursor(env.DB, "demo", "items", "2026-11-20T00:01:09.000Z");
    const e = workerEnv();
    const before = await written();

    const { status, body } = await testRead(e, "items");

    expect(status, JSON.stringify(body)).toBe(200);
    expect(unexpected).toEqual([]);
    // The run's first request: the stored cursor minus the 60 s lookback, the page size as the limit.
    expect(vendorRequests.map((u) => `${u.pathname}?${u.searchParams}`)).toEqual([
      "/v1/items?updated_since=2026-11-20T00%3A00%3A09.000Z&limit=100",
    ]);
    expect(body.request).toBe(`GET ${VENDOR}/v1/items?updated_since=2026-11-20T00%3A00%3A09.000Z&limit=100`);
    expect(body.records).toBe(100);
    expect(body.streams).toEqual({ items: 100 });
    const lines = (body.lines as string[]).map((l) => JSON.parse(l) as Line);
    expect(lines).toHaveLength(100);
    // Items 64.. are the first at or after 00:00:09 (seven share each second).
    expect(lines[0]?._dock).toMatchObject({ source: "demo", stream: "items", pattern: "poll", key: "item_00064", op: "upsert" });
    expect(lines[0]?._dock.version).toMatch(/^2026-11-20T00:00:09\.000Z\|[0-9a-f]{16}$/);
    // Vendor bytes spliced verbatim: the 64-bit amount keeps every digit in the line.
    expect((body.lines as string[])[0]).toContain('"amount_minor":90071992547401056');
    const lastUpdated = lines.at(-1)?.data.updated_at;
    // The page lies inside the lookback, below the stored cursor: a run would leave the cursor where it is.
    expect(lastUpdated).toBe("2026-11-20T00:00:23.000Z");
    expect(body.cursor).toEqual({ from: "2026-11-20T00:01:09.000Z", to: "2026-11-20T00:01:09.000Z" });
    expect(body.next).toEqual({ keyset: lastUpdated });
    expect(body.wrote).toMatch(/^nothing/);

    expect(e.INGEST.messages).toEqual([]);
    expect(e.JOBS.messages).toEqual([]);
    expect(await written()).toEqual(before);
    const audit = await env.DB.prepare("SELECT action, params, status FROM admin_audit WHERE action = 'test read'").all();
    expect(audit.results).toHaveLength(1);
    expect(String(audit.results[0]?.params)).not.toContain("item_000");
  });

  it("given the same page, when a real poll reads it, then it sends exactly the envelopes the test read showed", async () => {
    installVendor();
    await resetCursor(env.DB, "demo", "items", null);
    const shown = await testRead(workerEnv(), "items");
    expect(shown.status).toBe(200);

    const e = pollEnv({ DEMO_VENDOR_URL: VENDOR, DEMO_VENDOR_TOKEN: DEMO_TOKEN });
    const out = await runPollStep(
      e,
      demo,
      { kind: "poll", source: "demo", stream: "items", run_id: "poll-after-test-read" },
      {
        gate: openGate,
        budget: { pages: 1 },
      },
    );
    expect(out.status).toBe("continued");
    const shownIds = (shown.body.lines as string[]).map((l) => (JSON.parse(l) as Line)._dock.id);
    expect(sentIds(e.INGEST)).toEqual(shownIds);
    expect(shown.body.cursor).toEqual({ from: null, to: "2026-11-20T00:00:14.000Z" });
    expect(unexpected).toEqual([]);
  });

  it("given the next page printed by a test read, when it is passed back, then the following page is shown", async () => {
    installVendor();
    await resetCursor(env.DB, "demo", "customers", null);
    const e = workerEnv();
    const first = await testRead(e, "customers");
    expect(first.status).toBe(200);
    expect(first.body.next).toEqual({ id: "cus_00100" });
    const second = await testRead(e, "customers", { next: first.body.next });
    expect(second.status).toBe(200);
    expect((JSON.parse((second.body.lines as string[])[0] as string) as Line)._dock.key).toBe("cus_00101");
    expect(vendorRequests.map((u) => u.searchParams.get("starting_after"))).toEqual([null, "cus_00100"]);
    expect(e.INGEST.messages).toEqual([]);
  });

  it("given a stream read only as a full refresh, when test-read, then its rows are shown as snapshot rows and no manifest is sent", async () => {
    installVendor();
    const e = workerEnv();
    const before = await written();
    const { status, body } = await testRead(e, "plans");
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.pattern).toBe("full_refresh");
    expect(body.records).toBe(50);
    expect((JSON.parse((body.lines as string[])[0] as string) as Line)._dock).toMatchObject({ pattern: "full_refresh", op: "snapshot" });
    expect(body.next).toEqual({ offset: 50 });
    expect(e.INGEST.messages).toEqual([]);
    expect(await written()).toEqual(before);
  });

  it("given DEMO_VENDOR_URL unset, when test-read, then 422 names what to set and the vendor is never called", async () => {
    installVendor();
    const e = workerEnv({ DEMO_VENDOR_URL: undefined, DEMO_VENDOR_TOKEN: undefined });
    const before = await written();
    const { status, body } = await testRead(e, "items");
    expect(status).toBe(422);
    expect(body.missing).toEqual(["DEMO_VENDOR_URL", "DEMO_VENDOR_TOKEN"]);
    expect(body.error).toContain("set DEMO_VENDOR_URL");
    expect(vendorRequests).toEqual([]);
    expect(await written()).toEqual(before);
  });

  it("given the vendor refuses the token, when test-read, then 502 with the vendor's answer (the token never shown) and nothing written", async () => {
    installVendor();
    await resetCursor(env.DB, "demo", "items", null);
    const e = workerEnv({ DEMO_VENDOR_URL: VENDOR, DEMO_VENDOR_TOKEN: "wrong-token-value" });
    const before = await written();
    const { status, body } = await testRead(e, "items");
    expect(status).toBe(502);
    expect(body.error).toMatch(/^page 1 \(GET http:\/\/demo\.vendor\.test\/v1\/items\?limit=100\): .*answered 401/);
    expect(JSON.stringify(body)).not.toContain("wrong-token-value");
    expect(e.INGEST.messages).toEqual([]);
    expect(await written()).toEqual(before);
  });

  it("given a stream the source does not have, or a bad body, then 404 / 400", async () => {
    installVendor();
    const e = workerEnv();
    expect((await testRead(e, "nope")).status).toBe(404);
    expect((await testRead(e, "items", { pattern: "sideways" })).status).toBe(400);
    expect((await testRead(e, "items", { extra: true })).status).toBe(400);
    expect(vendorRequests).toEqual([]);
  });
});
