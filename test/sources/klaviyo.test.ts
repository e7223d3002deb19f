import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetCursor } from "../../src/pollers/cursor";
import { klaviyo } from "../../src/sources/klaviyo";
import { aKlaviyoEvent, aKlaviyoProfile, at, klaviyoError, klaviyoPage } from "../../src/sources/klaviyo/fixtures";
import { landed, pollEnv, quietLogs, renamed, run, storedCursor, VendorMock } from "./support";
import { versionWithDigest } from "../pollers/helpers";

const API = "https://a.klaviyo.com/api";
const KEY = "pk_loadingdock0000000000000000000000";
const events = (query: string) => `${API}/events?${query}`;

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

describe("klaviyo polling", () => {
  it("given no cursor, when events are polled, then they are read ascending by datetime following links.next to the end", async () => {
    const source = renamed(klaviyo);
    const next = `${API}/events?sort=datetime&page%5Bcursor%5D=bmV4dDo6aWQ6OjQ`;
    const vendor = new VendorMock()
      .on(events("sort=datetime"), {
        body: klaviyoPage([at(aKlaviyoEvent("e1"), "datetime", "2026-11-25T07:00:01+00:00")], events("sort=datetime"), next),
      })
      .on(next, { body: klaviyoPage([at(aKlaviyoEvent("e2"), "datetime", "2026-11-25T07:00:02+00:00")], next, null) });
    vendor.install();
    const env = pollEnv({ KLAVIYO_API_KEY: KEY });

    const out = await run(env, source, "events");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", pages: 2, records: 2 });
    expect(vendor.requests.map((r) => [r.headers.get("authorization"), r.headers.get("revision")])).toEqual([
      [`Klaviyo-API-Key ${KEY}`, "2024-10-15"],
      [`Klaviyo-API-Key ${KEY}`, "2024-10-15"],
    ]);
    expect(await storedCursor(source, "events")).toBe("2026-11-25T07:00:02+00:00");
    const lines = await landed(env, source);
    expect(lines.map((l) => [l._dock.key, l._dock.version])).toEqual([
      ["e1", versionWithDigest("2026-11-25T07:00:01+00:00")],
      ["e2", versionWithDigest("2026-11-25T07:00:02+00:00")],
    ]);
  });

  it("given a stored cursor, when profiles are polled, then the request filters greater-than(updated, cursor − 5 min) with page[size]=100", async () => {
    const source = renamed(klaviyo);
    const env = pollEnv({ KLAVIYO_API_KEY: KEY });
    await resetCursor(env.DB, source.name, "profiles", "2026-11-25T07:00:00+00:00");
    const url = `${API}/profiles?sort=updated&page%5Bsize%5D=100&filter=${encodeURIComponent("greater-than(updated,2026-11-25T06:55:00.000Z)")}`;
    const vendor = new VendorMock().on(url, {
      body: klaviyoPage([at(aKlaviyoProfile(), "updated", "2026-11-25T07:10:00+00:00")], url, null),
    });
    vendor.install();

    const out = await run(env, source, "profiles");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(Object.fromEntries(new URL(vendor.requests[0]?.url as string).searchParams)).toEqual({
      sort: "updated",
      "page[size]": "100",
      filter: "greater-than(updated,2026-11-25T06:55:00.000Z)",
    });
    expect(vendor.requests[0]?.headers.get("authorization")).toBe(`Klaviyo-API-Key ${KEY}`);
    expect(await storedCursor(source, "profiles")).toBe("2026-11-25T07:10:00+00:00");
  });

  it("given Klaviyo throttles (429 with Retry-After), when polled, then the wait is at least Retry-After plus a random share, and the page is asked again", async () => {
    const source = renamed(klaviyo);
    const vendor = new VendorMock().on(
      events("sort=datetime"),
      {
        status: 429,
        body: klaviyoError(429, "throttled", "Request was throttled. Expected available in 3 seconds."),
        headers: { "retry-after": "3" },
      },
      {
        status: 429,
        body: klaviyoError(429, "throttled", "Request was throttled. Expected available in 3 seconds."),
        headers: { "retry-after": "3" },
      },
      { body: klaviyoPage([aKlaviyoEvent()], events("sort=datetime"), null) },
    );
    vendor.install();
    const waits: number[] = [];

    const out = await run(pollEnv({ KLAVIYO_API_KEY: KEY }), source, "events", { onWait: (ms) => waits.push(ms) });

    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(vendor.requests).toHaveLength(3);
    expect(waits).toHaveLength(2);
    for (const w of waits) expect(w).toBeGreaterThan(3000);
    // Jitter: two waits for the same Retry-After are not the same instant.
    expect(waits[0]).not.toBe(waits[1]);
  });

  it("given a revoked private key (401), when polled, then the run fails clearly and the key is not in the error", async () => {
    const source = renamed(klaviyo);
    const vendor = new VendorMock().on(events("sort=datetime"), {
      status: 401,
      body: klaviyoError(401, "authentication_failed", `Incorrect authentication credentials (${KEY}).`),
    });
    vendor.install();

    const out = await run(pollEnv({ KLAVIYO_API_KEY: KEY }), source, "events");

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/answered 401: .*authentication_failed/);
    expect(out.error).not.toContain(KEY);
  });
});
