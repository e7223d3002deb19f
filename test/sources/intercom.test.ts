import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetCursor } from "../../src/pollers/cursor";
import { intercom } from "../../src/sources/intercom";
import {
  anIntercomContact,
  anIntercomConversation,
  INTERCOM_T0,
  intercomError,
  searchAnswer,
  searchBody,
} from "../../src/sources/intercom/fixtures";
import { fakeClock, landed, pollEnv, quietLogs, renamed, run, storedCursor, VendorMock } from "./support";
import { versionWithDigest } from "../pollers/helpers";

const API = "https://api.intercom.io";
const TOKEN = "dG9rOmludGVyY29tLWFjY2Vzcy10b2tlbg==";

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

describe("intercom polling: search on updated_at", () => {
  it("given no cursor, when contacts are polled, then the search starts after 0, follows starting_after to the end, and stores the last updated_at", async () => {
    const source = renamed(intercom);
    const vendor = new VendorMock().on(
      `${API}/contacts/search`,
      { body: searchAnswer("contacts", [anIntercomContact("c1").with({ updated_at: INTERCOM_T0 + 1 })], "WzE3OTU1OTAwMDEsImMxIl0=", 2) },
      { body: searchAnswer("contacts", [anIntercomContact("c2").with({ updated_at: INTERCOM_T0 + 2 })]) },
    );
    vendor.install();
    const env = pollEnv({ INTERCOM_ACCESS_TOKEN: TOKEN });

    const out = await run(env, source, "contacts");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", pages: 2, records: 2 });
    expect(vendor.requests.map((r) => JSON.parse(r.body))).toEqual([searchBody(0, 150), searchBody(0, 150, "WzE3OTU1OTAwMDEsImMxIl0=")]);
    expect(vendor.requests.map((r) => [r.method, r.headers.get("authorization"), r.headers.get("intercom-version")])).toEqual([
      ["POST", `Bearer ${TOKEN}`, "2.11"],
      ["POST", `Bearer ${TOKEN}`, "2.11"],
    ]);
    expect(await storedCursor(source, "contacts")).toBe(String(INTERCOM_T0 + 2));
    const lines = await landed(env, source);
    expect(lines.map((l) => [l._dock.key, l._dock.version, l._dock.op])).toEqual([
      ["c1", versionWithDigest(String(INTERCOM_T0 + 1)), "upsert"],
      ["c2", versionWithDigest(String(INTERCOM_T0 + 2)), "upsert"],
    ]);
  });

  it("given a stored cursor, when conversations are polled, then the body asks for updated_at > cursor − 300 s", async () => {
    const source = renamed(intercom);
    const env = pollEnv({ INTERCOM_ACCESS_TOKEN: TOKEN });
    await resetCursor(env.DB, source.name, "conversations", String(INTERCOM_T0));
    const vendor = new VendorMock().on(`${API}/conversations/search`, {
      body: searchAnswer("conversations", [anIntercomConversation("77").with({ updated_at: INTERCOM_T0 + 30 })]),
    });
    vendor.install();

    const out = await run(env, source, "conversations");

    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(new URL(vendor.requests[0]?.url as string).pathname).toBe("/conversations/search");
    expect(JSON.parse(vendor.requests[0]?.body ?? "")).toEqual(searchBody(INTERCOM_T0 - 300, 150));
    expect(vendor.requests[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(await storedCursor(source, "conversations")).toBe(String(INTERCOM_T0 + 30));
  });

  it("given a change seen again in the overlap, when polled twice, then both copies have one _dock.id", async () => {
    const source = renamed(intercom);
    const same = anIntercomContact("c9").with({ updated_at: INTERCOM_T0 });
    const vendor = new VendorMock().on(`${API}/contacts/search`, { body: searchAnswer("contacts", [same]) });
    vendor.install();
    const env = pollEnv({ INTERCOM_ACCESS_TOKEN: TOKEN });

    await run(env, source, "contacts");
    await run(env, source, "contacts");

    const lines = await landed(env, source);
    expect(JSON.parse(vendor.requests[1]?.body ?? "").query.value).toBe(INTERCOM_T0 - 300);
    expect(new Set(lines.map((l) => l._dock.id)).size).toBe(1);
  });

  it("given Intercom answers 429 with X-RateLimit-Reset, when polled, then the run waits until that reset (plus jitter) and retries", async () => {
    const source = renamed(intercom);
    const clock = fakeClock();
    const reset = Math.floor(clock.now() / 1000) + 8;
    const vendor = new VendorMock().on(
      `${API}/contacts/search`,
      {
        status: 429,
        body: intercomError("rate_limit_exceeded", "Exceeded rate limit of 1666 in 10_seconds"),
        headers: { "x-ratelimit-limit": "1666", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
      },
      { body: searchAnswer("contacts", [anIntercomContact()]) },
    );
    vendor.install();
    const waits: number[] = [];

    const out = await run(pollEnv({ INTERCOM_ACCESS_TOKEN: TOKEN }), source, "contacts", { clock, onWait: (ms) => waits.push(ms) });

    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(8000);
    expect(vendor.requests[1]?.body).toBe(vendor.requests[0]?.body);
  });

  it("given an answer saying the rate window is spent (X-RateLimit-Remaining 0), when polled, then the source holds back until X-RateLimit-Reset", async () => {
    const source = renamed(intercom);
    const clock = fakeClock();
    const reset = Math.floor(clock.now() / 1000) + 6;
    const vendor = new VendorMock().on(`${API}/contacts/search`, {
      body: searchAnswer("contacts", [anIntercomContact()]),
      headers: { "x-ratelimit-limit": "1666", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
    });
    vendor.install();
    const waits: [number, string][] = [];

    const out = await run(pollEnv({ INTERCOM_ACCESS_TOKEN: TOKEN }), source, "contacts", {
      clock,
      onWait: (ms, why) => waits.push([ms, why]),
    });

    expect(out.status).toBe("succeeded");
    expect(waits).toEqual([[6000, "usage"]]);
  });

  it("given an invalid access token (401), when polled, then the run fails clearly without the token", async () => {
    const source = renamed(intercom);
    const vendor = new VendorMock().on(`${API}/contacts/search`, {
      status: 401,
      body: intercomError("unauthorized", `Access Token Invalid ${TOKEN}`),
    });
    vendor.install();

    const out = await run(pollEnv({ INTERCOM_ACCESS_TOKEN: TOKEN }), source, "contacts");

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/POST .*\/contacts\/search answered 401: .*unauthorized/);
    expect(out.error).not.toContain(TOKEN);
  });
});
