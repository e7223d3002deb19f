import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cursorPage, DEMO_EPOCH, demoItems, listPage, offsetPage } from "../../demo/fixtures";
import { readCursor, resetCursor } from "../../src/pollers/cursor";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import type { CursorSpec } from "../../src/pollers/types";
import { aSource, fakeClock, pollEnv, quietLogs, sentIds, VendorMock } from "./helpers";

const BASE = "https://api.vendor.test/v1/items";
const tokenPages = { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" } as const;
const cursor: CursorSpec = { kind: "updated_at", field: "updated_at", param: "updated_since", lookbackSeconds: 0 };
const items = demoItems(9);

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

async function poll(source: ReturnType<typeof aSource>, env = pollEnv()) {
  const out = await runPollStep(
    env,
    source,
    { kind: "poll", source: source.name, stream: "items" },
    { clock: fakeClock(), gate: openGate },
  );
  return { out, env };
}

describe("poll engine: vendor misbehaviour", () => {
  it("given the vendor repeats a page (offset ignored), when polled, then the run stops with a clear error after sending every record it saw", async () => {
    const vendor = new VendorMock()
      .on(`${BASE}?limit=3&offset=0`, { body: offsetPage(items.slice(0, 3), 9) })
      .on(`${BASE}?limit=3&offset=3`, { body: offsetPage(items.slice(0, 3), 9) });
    vendor.install();
    const { out, env } = await poll(aSource({ records: "items", pagination: { style: "offset", totalPath: "total" } }));

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/page 2 .*previous page again/);
    expect(new Set(sentIds(env.INGEST)).size).toBe(3);
    expect(vendor.requests).toHaveLength(2);
  });

  it("given a next token that loops back to an earlier page, when polled, then the run stops instead of looping forever", async () => {
    const vendor = new VendorMock()
      .on(`${BASE}?limit=3`, { body: cursorPage(items.slice(0, 3), "A") })
      .on(`${BASE}?limit=3&cursor=A`, { body: cursorPage(items.slice(3, 6), "B") })
      .on(`${BASE}?limit=3&cursor=B`, { body: cursorPage(items.slice(6, 9), "A") });
    vendor.install();
    const { out, env } = await poll(aSource({ pagination: tokenPages }));

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/page 3 .*already followed.*looping/);
    expect(new Set(sentIds(env.INGEST)).size).toBe(9);
    expect(vendor.requests).toHaveLength(3);
  });

  it("given empty pages that keep saying has_more: true, when polled, then the run stops after a few with a clear error", async () => {
    let n = 0;
    const vendor = new VendorMock().on(`${BASE}?limit=3`, { body: cursorPage(items.slice(0, 3), "e1") });
    for (let i = 1; i <= 5; i++) vendor.on(`${BASE}?limit=3&cursor=e${i}`, () => ({ body: cursorPage([], `e${++n + 1}`) }));
    vendor.install();
    const { out, env } = await poll(aSource({ pagination: tokenPages }));

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/3 empty pages in a row/);
    expect(vendor.requests).toHaveLength(4);
    expect(new Set(sentIds(env.INGEST)).size).toBe(3);
  });

  it("given an empty page with has_more: true under starting_after, when polled, then the run fails: there is no id to continue after", async () => {
    const vendor = new VendorMock().on(`${BASE}?limit=3`, { body: listPage([], true) });
    vendor.install();
    const { out } = await poll(
      aSource({ pagination: { style: "after_id", param: "starting_after", hasMorePath: "has_more", limitParam: "limit" } }),
    );

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/page 1 .*no record to continue after/);
  });

  it("given truncated JSON on page 2, when polled, then the run fails at page 2, page 1's records are sent, and the cursor stays where it was", async () => {
    const source = aSource({ cursor, pagination: tokenPages });
    const stored = new Date(DEMO_EPOCH - 1000).toISOString();
    await resetCursor(workerEnv.DB, source.name, "items", stored);
    const full = cursorPage(items.slice(3, 6), null);
    const vendor = new VendorMock()
      .on(`${BASE}?limit=3&updated_since=${stored}`, { body: cursorPage(items.slice(0, 3), "p2") })
      .on(`${BASE}?limit=3&updated_since=${stored}&cursor=p2`, { body: full.slice(0, full.length - 40) });
    vendor.install();
    const { out, env } = await poll(source);

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/^page 2 \(GET https:\/\/api\.vendor\.test\/v1\/items\?.*not JSON/);
    expect(new Set(sentIds(env.INGEST)).size).toBe(3);
    expect(await readCursor(workerEnv.DB, source.name, "items")).toBe(stored);
  });

  it("given a page whose records lack the primary key, when polled, then the run fails naming the record and the key", async () => {
    const vendor = new VendorMock().on(`${BASE}?limit=3`, { body: '{"data":[{"name":"no id"}],"has_more":false,"next_cursor":null}' });
    vendor.install();
    const { out } = await poll(aSource({ pagination: tokenPages }));

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/page 1 .*record 0 has no value at id \(its primary_key\)/);
  });

  it("given a next link to another host, when polled, then the run fails without sending our credentials there", async () => {
    const vendor = new VendorMock().on(`${BASE}?limit=3`, { body: '{"results":[],"links":{"next":"https://evil.test/steal"}}' });
    vendor.install();
    const { out } = await poll(
      aSource({ records: "results", pagination: { style: "next_link", path: "links.next", limitParam: "limit" } }),
    );

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/another origin: https:\/\/evil\.test/);
    expect(vendor.requests.map((r) => r.url)).toEqual([`${BASE}?limit=3`]);
  });

  it("given a vendor that never stops paginating, when a run's budget is spent, then it hands over to a continuation instead of running on", async () => {
    const vendor = new VendorMock();
    const many = demoItems(30);
    for (let p = 0; p < 10; p++) {
      vendor.on(p === 0 ? `${BASE}?limit=3` : `${BASE}?limit=3&cursor=n${p}`, {
        body: cursorPage(many.slice(p * 3, p * 3 + 3), `n${p + 1}`),
      });
    }
    vendor.install();
    const source = aSource({ pagination: tokenPages });
    const env = pollEnv();
    const out = await runPollStep(
      env,
      source,
      { kind: "poll", source: source.name, stream: "items" },
      { clock: fakeClock(), gate: openGate, budget: { pages: 4 } },
    );

    expect(out).toMatchObject({ status: "continued", pages: 4 });
    expect(env.JOBS.messages.map((m) => m.body)).toEqual([
      { kind: "poll", source: source.name, stream: "items", run_id: out.runId, page: 5 },
    ]);
  });
});
