import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetCursor } from "../../src/pollers/cursor";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { salesforce } from "../../src/sources/salesforce";
import {
  aSalesforceAccount,
  bulkCsv,
  bulkJob,
  describeBody,
  modified,
  queryPage,
  salesforceError,
  tokenAnswer,
} from "../../src/sources/salesforce/fixtures";
import { landed, pollEnv, quietLogs, renamed, run, runRow, storedCursor, VendorMock } from "./support";
import { versionWithDigest } from "../pollers/helpers";

const INSTANCE = "https://acme.my.salesforce.com";
const V = `${INSTANCE}/services/data/v62.0`;
const LOGIN = "https://login.salesforce.com/services/oauth2/token";
const FIELDS = ["Id", "Name", "IsDeleted", "SystemModstamp"];
const SECRETS = {
  SALESFORCE_INSTANCE_URL: INSTANCE,
  SALESFORCE_CLIENT_ID: "3MVG9-client",
  SALESFORCE_CLIENT_SECRET: "sf-client-secret-1",
  SALESFORCE_REFRESH_TOKEN: "5Aep861-refresh-token",
};
const queryUrl = (q: string) => `${V}/queryAll?${new URLSearchParams({ q })}`;
const incremental = (since: string) =>
  `SELECT Id, Name, IsDeleted, SystemModstamp FROM Account WHERE SystemModstamp >= ${since} ORDER BY SystemModstamp, Id`;

beforeEach(() => {
  quietLogs();
  clearTokenCache();
});
afterEach(() => vi.restoreAllMocks());

/** The org: token exchange and describe answered; the test adds the calls it is about. */
function org() {
  return new VendorMock().on(LOGIN, { body: tokenAnswer("00Dxx!access-token-1", INSTANCE) }).on(`${V}/sobjects/Account/describe`, {
    body: describeBody([...FIELDS, { name: "BillingAddress", type: "address" }]),
    headers: { "sforce-limit-info": "api-usage=120/15000" },
  });
}

async function withCursor(source: typeof salesforce, iso: string) {
  await resetCursor(workerEnv.DB, source.name, "account", iso);
}

describe("salesforce polling: REST queryAll", () => {
  it("given a stored cursor, when polled, then queryAll asks from the cursor − 5 minutes ordered by SystemModstamp, Id and follows nextRecordsUrl to the end", async () => {
    const source = renamed(salesforce);
    await withCursor(source, "2026-11-25T07:00:00.000Z");
    const a = modified(aSalesforceAccount("001A"), "2026-11-25T07:01:00.000Z");
    const b = modified(aSalesforceAccount("001B"), "2026-11-25T07:02:00.000Z").with({ IsDeleted: true });
    const vendor = org()
      .on(queryUrl(incremental("2026-11-25T06:55:00Z")), { body: queryPage([a], "/services/data/v62.0/query/01gxx-1") })
      .on(`${V}/query/01gxx-1`, { body: queryPage([b]) });
    vendor.install();
    const env = pollEnv(SECRETS);

    const out = await run(env, source, "account");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 2 });
    const api = vendor.requests.filter((r) => r.url.startsWith(INSTANCE));
    expect(api.map((r) => r.headers.get("authorization"))).toEqual(Array(3).fill("Bearer 00Dxx!access-token-1"));
    expect(Object.fromEntries(new URLSearchParams(vendor.requests[0]?.body))).toEqual({
      client_id: "3MVG9-client",
      client_secret: "sf-client-secret-1",
      grant_type: "refresh_token",
      refresh_token: "5Aep861-refresh-token",
    });
    expect(await storedCursor(source, "account")).toBe("2026-11-25T07:02:00.000Z");
    const lines = await landed(env, source);
    expect(lines.map((l) => [l._dock.key, l._dock.op, l._dock.version])).toEqual([
      ["001A", "upsert", versionWithDigest("2026-11-25T07:01:00.000Z")],
      ["001B", "delete", versionWithDigest("2026-11-25T07:02:00.000Z")],
    ]);
    expect(JSON.stringify(lines[0]?.data)).toContain('"attributes":{"type":"Account"');
  });

  it("given the daily request limit is spent (403 REQUEST_LIMIT_EXCEEDED) on page 2, when polled, then the run is paused with the first page's cursor kept", async () => {
    const source = renamed(salesforce);
    await withCursor(source, "2026-11-25T07:00:00.000Z");
    const a = modified(aSalesforceAccount("001C"), "2026-11-25T07:03:00.000Z");
    const vendor = org()
      .on(queryUrl(incremental("2026-11-25T06:55:00Z")), { body: queryPage([a], "/services/data/v62.0/query/01gxx-2") })
      .on(`${V}/query/01gxx-2`, { status: 403, body: salesforceError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.") });
    vendor.install();
    const env = pollEnv(SECRETS);

    const out = await run(env, source, "account");

    expect(out.status).toBe("paused");
    expect(out.error).toMatch(/quota spent, paused: .*403.*REQUEST_LIMIT_EXCEEDED/);
    expect(await runRow(out.runId)).toMatchObject({ status: "paused", records: 1 });
    expect(await storedCursor(source, "account")).toBe("2026-11-25T07:03:00.000Z");
    const schedule = await workerEnv.DB.prepare(
      "SELECT last_status, active_run_id, next_due_at FROM poll_schedule WHERE source = ? AND stream = 'account'",
    )
      .bind(source.name)
      .first();
    // Due again an hour after the pause (the fake clock stands at 08:00), not at the usual interval.
    expect(schedule).toEqual({ last_status: "paused", active_run_id: null, next_due_at: "2026-11-25T09:00:00.000Z" });
    expect(vendor.requests.filter((r) => r.url === `${V}/query/01gxx-2`)).toHaveLength(1);
  });

  it("given Sforce-Limit-Info above 95% of the daily allowance, when polled, then the run pauses before spending the org's last requests", async () => {
    const source = renamed(salesforce);
    await withCursor(source, "2026-11-25T07:00:00.000Z");
    const vendor = org().on(queryUrl(incremental("2026-11-25T06:55:00Z")), {
      body: queryPage([aSalesforceAccount()]),
      headers: { "sforce-limit-info": "api-usage=14300/15000" },
    });
    vendor.install();

    const out = await run(pollEnv(SECRETS), source, "account");

    expect(out.status).toBe("paused");
    expect(out.error).toMatch(/api-usage=14300\/15000/);
  });

  it("given a refresh token Salesforce refuses, when polled, then the run fails with the token endpoint's answer and no secret", async () => {
    const source = renamed(salesforce);
    const vendor = new VendorMock().on(LOGIN, {
      status: 400,
      body: JSON.stringify({ error: "invalid_grant", error_description: "expired access/refresh token" }),
    });
    vendor.install();

    const out = await run(pollEnv(SECRETS), source, "account");

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/400.*invalid_grant/);
    for (const secret of [SECRETS.SALESFORCE_REFRESH_TOKEN, SECRETS.SALESFORCE_CLIENT_SECRET]) expect(out.error).not.toContain(secret);
  });

  it("given a session Salesforce ends (401 INVALID_SESSION_ID twice), when polled, then one fresh token is tried and the run fails clearly", async () => {
    const source = renamed(salesforce);
    const vendor = new VendorMock()
      .on(LOGIN, { body: tokenAnswer("tok-a", INSTANCE) }, { body: tokenAnswer("tok-b", INSTANCE) })
      .on(`${V}/sobjects/Account/describe`, { status: 401, body: salesforceError("INVALID_SESSION_ID", "Session expired or invalid") });
    vendor.install();

    const out = await run(pollEnv(SECRETS), source, "account");

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/401.*INVALID_SESSION_ID/);
    expect(out.error).not.toMatch(/tok-a|tok-b/);
    expect(vendor.requests.filter((r) => r.url === LOGIN)).toHaveLength(2);
  });
});

describe("salesforce polling: a page that cannot be read", () => {
  it("given queryAll answers a maintenance page that is not JSON, when polled, then the run fails naming the object and phase and the cursor stays", async () => {
    const source = renamed(salesforce);
    await withCursor(source, "2026-11-25T07:00:00.000Z");
    const vendor = org().on(queryUrl(incremental("2026-11-25T06:55:00Z")), {
      body: "<html>Down for maintenance</html>",
      headers: { "content-type": "text/html" },
    });
    vendor.install();

    const out = await run(pollEnv(SECRETS), source, "account");

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/^Account \(rest\): .*JSON/);
    expect(await storedCursor(source, "account")).toBe("2026-11-25T07:00:00.000Z");
  });
});

describe("salesforce polling: Bulk API 2.0 first load", () => {
  it("given no cursor, when polled, then a queryAll job is created, polled with delayed continuations, and its CSV pages land with deletes and the cursor", async () => {
    const source = renamed(salesforce);
    const job = "750R0000000zlh9IAA";
    const header = ["Id", "Name", "IsDeleted", "SystemModstamp"];
    const vendor = org()
      .on(`${V}/jobs/query`, { body: bulkJob(job, "UploadComplete") })
      .on(`${V}/jobs/query/${job}`, { body: bulkJob(job, "InProgress") }, { body: bulkJob(job, "JobComplete") })
      .on(`${V}/jobs/query/${job}/results?maxRecords=10000`, {
        body: bulkCsv(header, [["001X", 'Acme, "the" Co', "false", "2026-11-20T10:00:00.000Z"]]),
        headers: { "content-type": "text/csv", "sforce-locator": "MTAwMDA", "sforce-numberofrecords": "1" },
      })
      .on(`${V}/jobs/query/${job}/results?maxRecords=10000&locator=MTAwMDA`, {
        body: bulkCsv(header, [["001Y", "Gone Ltd", "true", "2026-11-21T10:00:00.000Z"]]),
        headers: { "content-type": "text/csv", "sforce-locator": "null", "sforce-numberofrecords": "1" },
      });
    vendor.install();
    const env = pollEnv(SECRETS);

    const first = await run(env, source, "account");
    expect(first.status).toBe("deferred");
    expect(env.JOBS.messages.at(-1)?.delaySeconds).toBeGreaterThan(0);
    const second = await run(env, source, "account", { run_id: first.runId });
    expect(second.status).toBe("deferred");
    const third = await run(env, source, "account", { run_id: first.runId });

    expect(vendor.unexpected).toEqual([]);
    expect(third).toMatchObject({ status: "succeeded", records: 2 });
    const create = vendor.requests.find((r) => r.url === `${V}/jobs/query`);
    expect(create?.method).toBe("POST");
    expect(JSON.parse(create?.body ?? "")).toEqual({
      operation: "queryAll",
      query: "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account",
    });
    expect(await storedCursor(source, "account")).toBe("2026-11-21T10:00:00.000Z");
    const lines = await landed(env, source);
    expect(lines.map((l) => [l._dock.key, l._dock.op, l.data])).toEqual([
      ["001X", "upsert", { Id: "001X", Name: 'Acme, "the" Co', IsDeleted: "false", SystemModstamp: "2026-11-20T10:00:00.000Z" }],
      ["001Y", "delete", { Id: "001Y", Name: "Gone Ltd", IsDeleted: "true", SystemModstamp: "2026-11-21T10:00:00.000Z" }],
    ]);
  });

  it("given a Bulk job that fails, when polled, then the run fails naming the job id and Salesforce's message, and no cursor is stored", async () => {
    const source = renamed(salesforce);
    const job = "750R0000000failedAA";
    const vendor = org()
      .on(`${V}/jobs/query`, { body: bulkJob(job, "UploadComplete") })
      .on(`${V}/jobs/query/${job}`, { body: bulkJob(job, "Failed", "InvalidBatch : Failed to process query: OPERATION_TOO_LARGE") });
    vendor.install();
    const env = pollEnv(SECRETS);

    const first = await run(env, source, "account");
    const second = await run(env, source, "account", { run_id: first.runId });

    expect(second.status).toBe("failed");
    expect(second.error).toContain(job);
    expect(second.error).toMatch(/ended Failed: InvalidBatch.*OPERATION_TOO_LARGE/);
    expect((await runRow(first.runId))?.error).toContain(job);
    expect(await storedCursor(source, "account")).toBeNull();
  });
});
