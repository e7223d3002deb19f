import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetCursor } from "../../src/pollers/cursor";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { hubspot } from "../../src/sources/hubspot";
import { HUBSPOT_TOKEN_URL } from "../../src/sources/hubspot/auth";
import { aHubspotContact, archived, hubspotError, hubspotPage, modifiedAt, searchBody } from "../../src/sources/hubspot/fixtures";
import { landed, pollEnv, quietLogs, renamed, run, runRow, storedCursor, type TestEnv, VendorMock } from "./support";
import { versionWithDigest } from "../pollers/helpers";

const API = "https://api.hubapi.com";
const SEARCH = `${API}/crm/v3/objects/contacts/search`;
const TOKEN = "pat-eu1-loadingdock-private-app-token";
const T0 = Date.parse("2026-11-25T07:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

beforeEach(() => {
  quietLogs();
  clearTokenCache();
});
afterEach(() => vi.restoreAllMocks());

type Contact = ReturnType<typeof aHubspotContact>;

/**
 * HubSpot's contact search as documented: filter lastmodifieddate GTE value (ms), ascending, `limit`
 * ≤ 200, `after` an offset token, and a 400 for any page past the 10,000th result. A body of any
 * other shape is answered 418, which fails the run.
 */
function searchServer(vendor: VendorMock, contacts: Contact[], afterServing?: (n: number) => void) {
  let served = 0;
  return (): { status?: number; body: string } => {
    // Sorted at every request: a record modified meanwhile has moved, as in HubSpot.
    const sorted = [...contacts].sort((a, b) => Date.parse(a.get("updatedAt") as string) - Date.parse(b.get("updatedAt") as string));

    const body = JSON.parse(vendor.requests[vendor.requests.length - 1]?.body ?? "{}");
    const since = body.filterGroups?.[0]?.filters?.[0]?.value;
    const expected = searchBody("lastmodifieddate", since, body.limit, body.after);
    if (JSON.stringify(body) !== JSON.stringify(expected) || body.limit > 200)
      return { status: 418, body: `unexpected search body ${JSON.stringify(body)}` };
    const offset = Number(body.after ?? 0);
    if (offset + body.limit > 10_000)
      return { status: 400, body: hubspotError("VALIDATION_ERROR", "There was a problem with the request.") };
    const matching = sorted.filter((c) => Date.parse(c.get("updatedAt") as string) >= Number(since));
    const page = matching.slice(offset, offset + body.limit);
    const more = offset + body.limit < matching.length;
    const answer = { body: hubspotPage(page, { total: matching.length, after: more ? String(offset + body.limit) : undefined }) };
    afterServing?.(served++);
    return answer;
  };
}

function contactsAt(times: number[]): Contact[] {
  return times.map((t) => modifiedAt(aHubspotContact(), iso(t)));
}

function keysSent(env: TestEnv): string[] {
  return env.INGEST.messages.flatMap((m) =>
    ((m.body as { records?: { line: string }[] }).records ?? []).map((r) => (JSON.parse(r.line) as { _dock: { key: string } })._dock.key),
  );
}

describe("hubspot polling: CRM search", () => {
  it("given no cursor, when contacts are polled, then the search starts at 0, continues from the last modified date read, and ends with it as the cursor", async () => {
    const source = renamed(hubspot);
    const contacts = contactsAt(Array.from({ length: 250 }, (_, i) => T0 + i * 1000));
    const vendor = new VendorMock();
    vendor.on(SEARCH, searchServer(vendor, contacts));
    vendor.install();
    const env = pollEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN });

    const out = await run(env, source, "contacts");

    expect(vendor.unexpected).toEqual([]);
    // Page 2 is a new window from the last record's instant: that record comes back once (deduped).
    expect(out).toMatchObject({ status: "succeeded", pages: 2, records: 251 });
    expect(vendor.requests.map((r) => [r.method, r.headers.get("authorization"), r.headers.get("content-type")])).toEqual([
      ["POST", `Bearer ${TOKEN}`, "application/json"],
      ["POST", `Bearer ${TOKEN}`, "application/json"],
    ]);
    expect(JSON.parse(vendor.requests[0]?.body ?? "")).toEqual(searchBody("lastmodifieddate", 0, 200));
    expect(JSON.parse(vendor.requests[1]?.body ?? "")).toEqual(searchBody("lastmodifieddate", T0 + 199_000, 200));
    expect(await storedCursor(source, "contacts")).toBe(iso(T0 + 249_000));
    const lines = await landed(env, source);
    expect(new Set(lines.map((l) => l._dock.key)).size).toBe(250);
    expect(lines.every((l) => l._dock.op === "upsert" && l._dock.stream === "contacts")).toBe(true);
  });

  it("given a stored cursor, when polled, then the search body asks for lastmodifieddate ≥ cursor − 5 minutes in epoch ms", async () => {
    const source = renamed(hubspot);
    const env = pollEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN });
    await resetCursor(env.DB, source.name, "contacts", iso(T0));
    const vendor = new VendorMock().on(SEARCH, { body: hubspotPage(contactsAt([T0 + 5000])) });
    vendor.install();

    const out = await run(env, source, "contacts");

    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(vendor.requests).toHaveLength(1);
    expect(new URL(vendor.requests[0]?.url as string).search).toBe("");
    expect(JSON.parse(vendor.requests[0]?.body ?? "")).toEqual(searchBody("lastmodifieddate", T0 - 300_000, 200));
    expect(vendor.requests[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(await storedCursor(source, "contacts")).toBe(iso(T0 + 5000));
  });

  it("given HUBSPOT_CONTACTS_PROPERTIES, when polled, then every search body asks for those properties plus the modified date", async () => {
    const source = renamed(hubspot);
    const vendor = new VendorMock().on(
      SEARCH,
      { body: hubspotPage(contactsAt([T0, T0 + 1000]), { after: "2", total: 3 }) },
      { body: hubspotPage(contactsAt([T0 + 1000, T0 + 2000])) },
    );
    vendor.install();
    const env = pollEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN, HUBSPOT_CONTACTS_PROPERTIES: "email, lifecyclestage,bad prop,hs_lead_status" });

    const out = await run(env, source, "contacts");

    expect(out.status).toBe("succeeded");
    const props = ["email", "lifecyclestage", "hs_lead_status", "lastmodifieddate"];
    expect(vendor.requests.map((r) => JSON.parse(r.body))).toEqual([
      searchBody("lastmodifieddate", 0, 200, undefined, props),
      searchBody("lastmodifieddate", T0 + 1000, 200, undefined, props),
    ]);
  });

  it("given 10,050 changes (ties at every boundary), when polled, then no query pages past 10,000 results and every record lands", async () => {
    const source = renamed(hubspot);
    // Three records per second: the 10,000th result shares its instant with its neighbours.
    const contacts = contactsAt(Array.from({ length: 10_050 }, (_, i) => T0 + Math.floor(i / 3) * 1000));
    const vendor = new VendorMock();
    vendor.on(SEARCH, searchServer(vendor, contacts));
    vendor.install();
    const env = pollEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN });

    const out = await run(env, source, "contacts", { budget: { pages: 1000, subrequests: 10_000, wallMs: 600_000 } });

    expect(vendor.unexpected).toEqual([]);
    expect(out.status).toBe("succeeded");
    const bodies = vendor.requests.map((r) => JSON.parse(r.body));
    expect(bodies.every((b) => Number(b.after ?? 0) + b.limit <= 10_000)).toBe(true);
    const windows = [...new Set(bodies.map((b) => b.filterGroups[0].filters[0].value))];
    expect(windows.length).toBeGreaterThan(50);
    expect(windows[0]).toBe("0");
    const keys = keysSent(env);
    expect(new Set(keys)).toEqual(new Set(contacts.map((c) => c.get("id") as string)));
    expect(keys.length).toBeGreaterThanOrEqual(10_050);
    expect(await storedCursor(source, "contacts")).toBe(iso(T0 + Math.floor(10_049 / 3) * 1000));
  }, 120_000);

  it("given a record modified while the run pages (it moves to the end), when polled, then the row at the next page boundary is not skipped", async () => {
    const source = renamed(hubspot);
    const contacts = contactsAt(Array.from({ length: 300 }, (_, i) => T0 + (i + 1) * 1000));
    const moved = contacts[9] as Contact;
    const vendor = new VendorMock();
    // After page 1 is served, contact #10 is edited: with offset paging every later row would shift
    // down one and the 201st row (contacts[200]) would never be served.
    vendor.on(
      SEARCH,
      searchServer(vendor, contacts, (n) => (n === 0 ? modifiedAt(moved, iso(T0 + 1_000_000)) : undefined)),
    );
    vendor.install();
    const env = pollEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN });

    const out = await run(env, source, "contacts");

    expect(out.status).toBe("succeeded");
    const keys = keysSent(env);
    expect(new Set(keys)).toEqual(new Set(contacts.map((c) => c.get("id") as string)));
    expect(keys.filter((k) => k === moved.get("id"))).toHaveLength(2);
    expect(await storedCursor(source, "contacts")).toBe(iso(T0 + 1_000_000));
  });

  it("given more than 10,000 records sharing one modified instant, when polled, then the run fails saying so instead of looping or losing any", async () => {
    const source = renamed(hubspot);
    const contacts = contactsAt(Array.from({ length: 10_200 }, () => T0));
    const vendor = new VendorMock();
    vendor.on(SEARCH, searchServer(vendor, contacts));
    vendor.install();

    const out = await run(pollEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN }), source, "contacts", {
      budget: { pages: 1000, subrequests: 10_000, wallMs: 600_000 },
    });

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/more than 10000 records share lastmodifieddate = 2026-11-25T07:00:00.000Z/);
  }, 120_000);

  it("given HubSpot answers 429 (secondly limit), when polled, then the search is retried after a jittered wait with the same body", async () => {
    const source = renamed(hubspot);
    const vendor = new VendorMock().on(
      SEARCH,
      {
        status: 429,
        body: JSON.stringify({
          status: "error",
          message: "You have reached your secondly limit.",
          errorType: "RATE_LIMIT",
          policyName: "SECONDLY",
        }),
      },
      { body: hubspotPage(contactsAt([T0])) },
    );
    vendor.install();
    const waits: number[] = [];

    const out = await run(pollEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN }), source, "contacts", { onWait: (ms) => waits.push(ms) });

    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(vendor.requests.map((r) => r.body)).toEqual([vendor.requests[0]?.body, vendor.requests[0]?.body]);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
  });
});

describe("hubspot polling: archived records and auth", () => {
  it("given archived contacts, when the archived list is polled, then each lands as a delete in the contacts stream", async () => {
    const source = renamed(hubspot);
    const gone = [
      archived(aHubspotContact("901"), "2026-11-24T10:00:00.000Z"),
      archived(aHubspotContact("902"), "2026-11-24T11:00:00.000Z"),
    ];
    const vendor = new VendorMock()
      .on(`${API}/crm/v3/objects/contacts?archived=true&limit=100`, { body: hubspotPage(gone.slice(0, 1), { after: "901" }) })
      .on(`${API}/crm/v3/objects/contacts?archived=true&limit=100&after=901`, { body: hubspotPage(gone.slice(1)) });
    vendor.install();
    const env = pollEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN });

    const out = await run(env, source, "contacts_archived");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 2 });
    const lines = await landed(env, source);
    expect(lines.map((l) => [l._dock.stream, l._dock.key, l._dock.op, l._dock.version])).toEqual([
      ["contacts", "901", "delete", versionWithDigest("2026-11-24T10:00:00.000Z")],
      ["contacts", "902", "delete", versionWithDigest("2026-11-24T11:00:00.000Z")],
    ]);
  });

  it("given an OAuth app, when polled, then the refresh token is exchanged once and the access token is used", async () => {
    const source = renamed(hubspot);
    const vendor = new VendorMock()
      .on(HUBSPOT_TOKEN_URL, {
        body: JSON.stringify({ access_token: "at-hubspot-1", refresh_token: "rt-1", expires_in: 1800, token_type: "bearer" }),
      })
      .on(SEARCH, { body: hubspotPage(contactsAt([T0])) });
    vendor.install();

    const out = await run(
      pollEnv({ HUBSPOT_CLIENT_ID: "cid", HUBSPOT_CLIENT_SECRET: "csecret-1", HUBSPOT_REFRESH_TOKEN: "rt-1" }),
      source,
      "contacts",
    );

    expect(out.status).toBe("succeeded");
    expect(vendor.requests[0]?.url).toBe(HUBSPOT_TOKEN_URL);
    expect(Object.fromEntries(new URLSearchParams(vendor.requests[0]?.body))).toEqual({
      client_id: "cid",
      client_secret: "csecret-1",
      grant_type: "refresh_token",
      refresh_token: "rt-1",
    });
    expect(vendor.requests[1]?.headers.get("authorization")).toBe("Bearer at-hubspot-1");
  });

  it("given a private-app token HubSpot refuses (401), when polled, then the run fails with the status and without the token", async () => {
    const source = renamed(hubspot);
    const vendor = new VendorMock().on(SEARCH, {
      status: 401,
      body: hubspotError("INVALID_AUTHENTICATION", `Authentication credentials not found. token ${TOKEN}`),
    });
    vendor.install();

    const out = await run(pollEnv({ HUBSPOT_ACCESS_TOKEN: TOKEN }), source, "contacts");

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/POST .* answered 401: .*INVALID_AUTHENTICATION/);
    expect(out.error).not.toContain(TOKEN);
    expect((await runRow(out.runId))?.error).not.toContain(TOKEN);
  });
});
