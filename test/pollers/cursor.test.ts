import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cursorPage, DEMO_EPOCH, demoItems, encodeToken } from "../../demo/fixtures";
import { readCursor, resetCursor } from "../../src/pollers/cursor";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import type { CursorSpec } from "../../src/pollers/types";
import { readEnvelopes, readLines } from "../helpers/raw-zone";
import { aSource, deliverIngest, fakeClock, pollEnv, quietLogs, sentIds, VendorMock } from "./helpers";

const BASE = "https://api.vendor.test/v1/items";
const cursor: CursorSpec = { kind: "updated_at", field: "updated_at", param: "updated_since", lookbackSeconds: 300 };
const tokenPages = { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" } as const;
const iso = (ms: number) => new Date(ms).toISOString();

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

/** The vendor's pages of `items`, `size` per page, chained by opaque tokens, for a given updated_since. */
function pagesOf(vendor: VendorMock, items: ReturnType<typeof demoItems>, size: number, since?: string) {
  const sinceParam = since ? `updated_since=${since}&` : "";
  for (let start = 0; start < items.length || start === 0; start += size) {
    const token = start === 0 ? "" : `&cursor=${encodeToken(start)}`;
    const next = start + size < items.length ? encodeToken(start + size) : null;
    vendor.on(`${BASE}?${sinceParam}limit=${size}${token}`, { body: cursorPage(items.slice(start, start + size), next) });
    if (items.length === 0) break;
  }
}

describe("poll engine: cursors", () => {
  it("given a stored cursor, when the stream is polled, then the request asks for updated_since >= cursor minus the lookback", async () => {
    const source = aSource({ cursor, pagination: tokenPages });
    const stored = iso(DEMO_EPOCH + 600_000);
    await resetCursor(workerEnv.DB, source.name, "items", stored);
    const items = demoItems(2).map((i) => ({ ...i, updated_at: iso(DEMO_EPOCH + 700_000) }));
    const vendor = new VendorMock();
    pagesOf(vendor, items, 3, iso(DEMO_EPOCH + 300_000));
    vendor.install();
    const env = pollEnv();

    const out = await runPollStep(
      env,
      source,
      { kind: "poll", source: source.name, stream: "items" },
      { clock: fakeClock(), gate: openGate },
    );

    expect(vendor.unexpected).toEqual([]);
    expect(out.status).toBe("succeeded");
    expect(new URL(vendor.requests[0]?.url as string).searchParams.get("updated_since")).toBe(iso(DEMO_EPOCH + 300_000));
    expect(await readCursor(env.DB, source.name, "items")).toBe(iso(DEMO_EPOCH + 700_000));
  });

  it("given records sharing one updated_at across page boundaries, when polled twice, then every record lands exactly once with its bytes intact", async () => {
    const source = aSource({ cursor: { ...cursor, lookbackSeconds: 0 }, pagination: tokenPages });
    const items = demoItems(10, 4); // timestamps in runs of 4, pages of 3: every boundary splits a tie
    const vendor = new VendorMock();
    pagesOf(vendor, items, 3);
    // The second run starts at the last timestamp (>=): the vendor sends the last tie group again.
    const lastTs = items[9]?.updated_at as string;
    pagesOf(
      vendor,
      items.filter((i) => i.updated_at >= lastTs),
      3,
      lastTs,
    );
    vendor.install();
    const env = pollEnv();
    const clock = fakeClock();

    expect(
      (await runPollStep(env, source, { kind: "poll", source: source.name, stream: "items" }, { clock, gate: openGate })).records,
    ).toBe(10);
    expect(
      (await runPollStep(env, source, { kind: "poll", source: source.name, stream: "items" }, { clock, gate: openGate })).records,
    ).toBe(2);
    await deliverIngest(env.INGEST);

    expect(vendor.unexpected).toEqual([]);
    const landed = await readEnvelopes(`raw/source=${source.name}/`);
    expect(landed.map((e) => e._dock.key).sort()).toEqual(items.map((i) => i.id).sort());
    expect((await readEnvelopes(`raw/source=${source.name}/`)).length).toBe(10);
    // 9007199254740993 is not a double: only a verbatim copy keeps the last digit.
    expect((await readLines(`raw/source=${source.name}/`)).some((l) => l.includes('"amount_minor":9007199254740993'))).toBe(true);
  });

  it("given the Worker dies after any page's records are on the queue, when the job is retried, then nothing is lost and at most that page repeats", async () => {
    const items = demoItems(11, 2);
    for (const crashAt of [1, 2, 3, 4]) {
      const source = aSource({ cursor, pagination: tokenPages });
      const vendor = new VendorMock();
      pagesOf(vendor, items, 3);
      vendor.install();
      const env = pollEnv();
      env.INGEST.crashAfterSend = crashAt;
      const job = { kind: "poll" as const, source: source.name, stream: "items", run_id: `crash-${source.name}` };

      await expect(runPollStep(env, source, job, { clock: fakeClock(), gate: openGate })).rejects.toThrow(/simulated crash/);
      const retried = await runPollStep(env, source, job, { clock: fakeClock(), gate: openGate });

      expect(retried.status).toBe("succeeded");
      const ids = sentIds(env.INGEST);
      expect(new Set(ids).size).toBe(11);
      expect(ids.length - 11).toBeLessThanOrEqual(3);
      await deliverIngest(env.INGEST);
      expect((await readEnvelopes(`raw/source=${source.name}/`)).length).toBe(11);
      expect(await readCursor(env.DB, source.name, "items")).toBe(items[10]?.updated_at);
      vi.restoreAllMocks();
    }
  });

  it("given a vendor that sends records older than the stored cursor, when polled, then they land and the cursor does not move backwards", async () => {
    const source = aSource({ cursor, pagination: tokenPages });
    const stored = iso(DEMO_EPOCH + 3_600_000);
    await resetCursor(workerEnv.DB, source.name, "items", stored);
    const old = demoItems(2); // both far older than the cursor
    const vendor = new VendorMock();
    pagesOf(vendor, old, 3, iso(DEMO_EPOCH + 3_300_000));
    vendor.install();
    const env = pollEnv();

    const out = await runPollStep(
      env,
      source,
      { kind: "poll", source: source.name, stream: "items" },
      { clock: fakeClock(), gate: openGate },
    );
    await deliverIngest(env.INGEST);

    expect(out).toMatchObject({ status: "succeeded", records: 2 });
    expect((await readEnvelopes(`raw/source=${source.name}/`)).length).toBe(2);
    expect(await readCursor(env.DB, source.name, "items")).toBe(stored);
  });

  it("given an admin reset to nothing, when polled, then the request carries no cursor and reads the stream from the start", async () => {
    const source = aSource({ cursor, pagination: tokenPages });
    await resetCursor(workerEnv.DB, source.name, "items", iso(DEMO_EPOCH));
    await resetCursor(workerEnv.DB, source.name, "items", null);
    const vendor = new VendorMock();
    pagesOf(vendor, demoItems(2), 3);
    vendor.install();

    const out = await runPollStep(
      pollEnv(),
      source,
      { kind: "poll", source: source.name, stream: "items" },
      { clock: fakeClock(), gate: openGate },
    );

    expect(vendor.unexpected).toEqual([]);
    expect(out.status).toBe("succeeded");
    expect(new URL(vendor.requests[0]?.url as string).searchParams.has("updated_since")).toBe(false);
  });
});
