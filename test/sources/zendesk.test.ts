import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetCursor } from "../../src/pollers/cursor";
import { gateFor } from "../../src/pollers/run-poll";
import { zendesk } from "../../src/sources/zendesk";
import { aZendeskOrganization, aZendeskTicket, cursorExportPage, timeExportPage } from "../../src/sources/zendesk/fixtures";
import { fakeClock, landed, pollEnv, quietLogs, renamed, run, storedCursor, VendorMock } from "./support";
import { versionWithDigest } from "../pollers/helpers";

const API = "https://acme.zendesk.com/api/v2/incremental";
const SECRETS = {
  ZENDESK_SUBDOMAIN: "acme",
  ZENDESK_EMAIL: "ops@acme.test",
  ZENDESK_API_TOKEN: "zd-api-token-6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv",
};
const BASIC = `Basic ${btoa(`ops@acme.test/token:${SECRETS.ZENDESK_API_TOKEN}`)}`;

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

describe("zendesk polling: cursor-based ticket export", () => {
  it("given no cursor, when tickets are polled, then the export starts at start_time=0, follows after_cursor to end_of_stream, and stores the last after_cursor", async () => {
    const source = renamed(zendesk);
    const vendor = new VendorMock()
      .on(`${API}/tickets/cursor.json?start_time=0&per_page=1000`, {
        body: cursorExportPage("tickets", [aZendeskTicket(1), aZendeskTicket(2)], "c-2", false),
      })
      .on(`${API}/tickets/cursor.json?cursor=c-2&per_page=1000`, { body: cursorExportPage("tickets", [aZendeskTicket(3)], "c-3", true) });
    vendor.install();
    const env = pollEnv(SECRETS);

    const out = await run(env, source, "tickets");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", pages: 2, records: 3 });
    expect(vendor.requests.map((r) => r.headers.get("authorization"))).toEqual([BASIC, BASIC]);
    expect(await storedCursor(source, "tickets")).toBe("c-3");
    const lines = await landed(env, source);
    expect(lines.map((l) => l._dock.key)).toEqual(["1", "2", "3"]);
  });

  it("given a stored after_cursor, when polled, then the export continues from exactly that cursor with no start_time", async () => {
    const source = renamed(zendesk);
    const env = pollEnv(SECRETS);
    await resetCursor(env.DB, source.name, "tickets", "c-stored");
    const vendor = new VendorMock().on(`${API}/tickets/cursor.json?cursor=c-stored&per_page=1000`, {
      body: cursorExportPage("tickets", [aZendeskTicket(4)], "c-next", true),
    });
    vendor.install();

    const out = await run(env, source, "tickets");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(Object.fromEntries(new URL(vendor.requests[0]?.url as string).searchParams)).toEqual({ cursor: "c-stored", per_page: "1000" });
    expect(vendor.requests[0]?.headers.get("authorization")).toBe(BASIC);
    expect(await storedCursor(source, "tickets")).toBe("c-next");
  });

  it("given a deleted ticket in the export, when polled, then it lands as a delete versioned by generated_timestamp", async () => {
    const source = renamed(zendesk);
    const vendor = new VendorMock().on(`${API}/tickets/cursor.json?start_time=0&per_page=1000`, {
      body: cursorExportPage("tickets", [aZendeskTicket(7).with({ status: "deleted", generated_timestamp: 1795590123 })], "c-7", true),
    });
    vendor.install();
    const env = pollEnv(SECRETS);

    await run(env, source, "tickets");

    const lines = await landed(env, source);
    expect(lines.map((l) => l._dock)).toMatchObject([
      { stream: "tickets", key: "7", op: "delete", version: versionWithDigest("1795590123") },
    ]);
  });

  it("given Zendesk answers 429 with Retry-After, when polled, then the run waits at least that long and asks the same page again", async () => {
    const source = renamed(zendesk);
    const vendor = new VendorMock().on(
      `${API}/tickets/cursor.json?start_time=0&per_page=1000`,
      {
        status: 429,
        body: '{"error":"APIRateLimitExceeded","description":"Number of allowed incremental export API requests per minute exceeded"}',
        headers: { "retry-after": "7" },
      },
      { body: cursorExportPage("tickets", [aZendeskTicket()], "c-1", true) },
    );
    vendor.install();
    const waits: number[] = [];

    const out = await run(pollEnv(SECRETS), source, "tickets", { onWait: (ms) => waits.push(ms) });

    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(vendor.requests).toHaveLength(2);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(7000);
  });

  it("given a revoked API token (401), when polled, then the run fails with the status and neither the token nor the Basic header appears", async () => {
    const source = renamed(zendesk);
    const vendor = new VendorMock().on(`${API}/tickets/cursor.json?start_time=0&per_page=1000`, {
      status: 401,
      body: '{"error":"Couldn\'t authenticate you"}',
    });
    vendor.install();

    const out = await run(pollEnv(SECRETS), source, "tickets");

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/answered 401: .*authenticate/);
    expect(out.error).not.toContain(SECRETS.ZENDESK_API_TOKEN);
    expect(out.error).not.toContain(BASIC.slice(6));
  });

  it("given the incremental endpoints' 10 requests a minute, then requests are spaced 12 s apart at half the cap, shared by all streams", async () => {
    const clock = fakeClock();
    const env = pollEnv({ ...SECRETS, RATE_FRACTION: "0.5" });
    const source = renamed(zendesk);
    const [tickets, users] = source.streams ?? [];
    if (!tickets || !users) throw new Error("streams missing");
    await gateFor(env, source, tickets, clock).reserve();
    expect(await gateFor(env, source, users, clock).reserve()).toBeCloseTo(12_000, 0);
  });
});

describe("zendesk polling: organizations (time-based export)", () => {
  it("given a stored end_time, when polled, then start_time is that end_time, pages follow end_time, and a deleted organization is a delete", async () => {
    const source = renamed(zendesk);
    await resetCursor(workerEnv.DB, source.name, "organizations", "1795500000");
    const vendor = new VendorMock()
      .on(`${API}/organizations.json?start_time=1795500000&per_page=1000`, {
        body: timeExportPage("organizations", [aZendeskOrganization(11)], 1795550000, false),
      })
      .on(`${API}/organizations.json?start_time=1795550000&per_page=1000`, {
        body: timeExportPage("organizations", [aZendeskOrganization(12).with({ deleted_at: "2026-11-25T06:00:00Z" })], 1795590000, true),
      });
    vendor.install();
    const env = pollEnv(SECRETS);

    const out = await run(env, source, "organizations");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 2 });
    expect(await storedCursor(source, "organizations")).toBe("1795590000");
    const lines = await landed(env, source);
    expect(lines.map((l) => [l._dock.key, l._dock.op])).toEqual([
      ["11", "upsert"],
      ["12", "delete"],
    ]);
  });

  it("given a subdomain that is not a bare name, when polled, then the run fails saying so before any request and frees the stream", async () => {
    const source = renamed(zendesk);
    const vendor = new VendorMock();
    vendor.install();
    const env = pollEnv({ ...SECRETS, ZENDESK_SUBDOMAIN: "evil.example/x" });

    const out = await run(env, source, "tickets");

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/bare subdomain/);
    expect(vendor.requests).toHaveLength(0);
    const schedule = await workerEnv.DB.prepare("SELECT active_run_id FROM poll_schedule WHERE source = ? AND stream = 'tickets'")
      .bind(source.name)
      .first();
    expect(schedule).toEqual({ active_run_id: null });
  });
});
