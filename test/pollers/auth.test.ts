import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cursorPage, demoItems } from "../../demo/fixtures";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { clearTokenCache, type RestAuth, restAuth } from "../../src/sources/rest/auth";
import { aSource, fakeClock, pollEnv, quietLogs, VendorMock } from "./helpers";

const BASE = "https://api.vendor.test/v1/items";
const TOKEN_URL = "https://auth.vendor.test/oauth/token";
const tokenPages = { style: "cursor", path: "next_cursor", param: "cursor", hasMorePath: "has_more", limitParam: "limit" } as const;
const items = demoItems(4);

beforeEach(() => {
  quietLogs();
  clearTokenCache();
});
afterEach(() => vi.restoreAllMocks());

/** Two pages; `check` sees each page request. */
function twoPages(vendor: VendorMock, query = "") {
  return vendor
    .on(`${BASE}?limit=3${query}`, { body: cursorPage(items.slice(0, 3), "p2") })
    .on(`${BASE}?limit=3${query}&cursor=p2`, { body: cursorPage(items.slice(3), null) });
}

async function poll(auth: RestAuth, secrets: Record<string, string>) {
  const source = aSource({ pagination: tokenPages }, { auth: restAuth(auth) });
  return runPollStep(
    pollEnv(secrets),
    source,
    { kind: "poll", source: source.name, stream: "items" },
    { clock: fakeClock(), gate: openGate },
  );
}

const tokenReply = (token: string) => ({ body: JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 3600 }) });

describe("poll engine: auth styles", () => {
  it("given bearer auth, when polled, then every page request carries the token", async () => {
    const vendor = twoPages(new VendorMock());
    vendor.install();
    const out = await poll({ type: "bearer", token: { env: "V_TOKEN" } }, { V_TOKEN: "tok_live_1" });
    expect(out.status).toBe("succeeded");
    expect(vendor.requests.map((r) => r.headers.get("authorization"))).toEqual(["Bearer tok_live_1", "Bearer tok_live_1"]);
  });

  it("given basic auth, when polled, then requests carry user:password in base64", async () => {
    const vendor = twoPages(new VendorMock());
    vendor.install();
    const out = await poll({ type: "basic", username: "svc", password: { env: "V_PASS" } }, { V_PASS: "pa:ss" });
    expect(out.status).toBe("succeeded");
    expect(vendor.requests[0]?.headers.get("authorization")).toBe(`Basic ${btoa("svc:pa:ss")}`);
  });

  it("given an API key in a header, when polled, then requests carry it in that header", async () => {
    const vendor = twoPages(new VendorMock());
    vendor.install();
    const out = await poll({ type: "api_key", in: "header", name: "X-Api-Key", key: { env: "V_KEY" } }, { V_KEY: "k-123" });
    expect(out.status).toBe("succeeded");
    expect(vendor.requests.map((r) => r.headers.get("x-api-key"))).toEqual(["k-123", "k-123"]);
  });

  it("given an API key in the query, when polled, then every page URL carries it", async () => {
    const vendor = twoPages(new VendorMock(), "&key=q-456");
    vendor.install();
    const out = await poll({ type: "api_key", in: "query", name: "key", key: { env: "V_KEY" } }, { V_KEY: "q-456" });
    expect(vendor.unexpected).toEqual([]);
    expect(out.status).toBe("succeeded");
  });

  it("given OAuth2 client credentials, when two pages are read, then one token is fetched, cached and used for both", async () => {
    const vendor = twoPages(new VendorMock()).on(TOKEN_URL, tokenReply("at-1"));
    vendor.install();
    const out = await poll(
      {
        type: "oauth2_client_credentials",
        tokenUrl: TOKEN_URL,
        clientId: { env: "V_ID" },
        clientSecret: { env: "V_SECRET" },
        scope: "read",
      },
      { V_ID: "client-1", V_SECRET: "s3cret" },
    );
    expect(out.status).toBe("succeeded");
    const tokenCalls = vendor.requests.filter((r) => r.url === TOKEN_URL);
    expect(tokenCalls).toHaveLength(1);
    expect(tokenCalls[0]?.method).toBe("POST");
    expect(Object.fromEntries(new URLSearchParams(tokenCalls[0]?.body))).toEqual({
      client_id: "client-1",
      client_secret: "s3cret",
      grant_type: "client_credentials",
      scope: "read",
    });
    expect(vendor.requests.filter((r) => r.url !== TOKEN_URL).map((r) => r.headers.get("authorization"))).toEqual([
      "Bearer at-1",
      "Bearer at-1",
    ]);
  });

  it("given an OAuth2 refresh token, when polled, then the token comes from the refresh_token grant", async () => {
    const vendor = twoPages(new VendorMock()).on(TOKEN_URL, tokenReply("at-r"));
    vendor.install();
    const out = await poll(
      { type: "oauth2_refresh_token", tokenUrl: TOKEN_URL, clientId: { env: "V_ID" }, refreshToken: { env: "V_REFRESH" } },
      { V_ID: "client-2", V_REFRESH: "rt-1" },
    );
    expect(out.status).toBe("succeeded");
    expect(new URLSearchParams(vendor.requests[0]?.body).get("grant_type")).toBe("refresh_token");
    expect(new URLSearchParams(vendor.requests[0]?.body).get("refresh_token")).toBe("rt-1");
  });

  it("given a token the vendor refuses once (401), when polled, then a fresh token is fetched and the request retried once", async () => {
    const vendor = new VendorMock()
      .on(TOKEN_URL, tokenReply("stale"), tokenReply("fresh"))
      .on(`${BASE}?limit=3`, (req) =>
        req.headers.get("authorization") === "Bearer fresh" ? { body: cursorPage(items, null) } : { status: 401, body: "{}" },
      );
    vendor.install();
    const out = await poll(
      { type: "oauth2_client_credentials", tokenUrl: TOKEN_URL, clientId: { env: "V_ID" }, clientSecret: { env: "V_SECRET" } },
      { V_ID: "client-3", V_SECRET: "s3cret" },
    );
    expect(out).toMatchObject({ status: "succeeded", records: 4 });
    expect(vendor.requests.filter((r) => r.url === TOKEN_URL)).toHaveLength(2);
  });

  it("given a vendor that refuses the fresh token too, when polled, then the run fails with the 401 and no secret in the error", async () => {
    const vendor = new VendorMock()
      .on(TOKEN_URL, tokenReply("at-a"), tokenReply("at-b"))
      .on(`${BASE}?limit=3`, { status: 401, body: '{"error":"invalid_token"}' });
    vendor.install();
    const out = await poll(
      { type: "oauth2_client_credentials", tokenUrl: TOKEN_URL, clientId: { env: "V_ID" }, clientSecret: { env: "V_SECRET" } },
      { V_ID: "client-4", V_SECRET: "s3cret-value" },
    );
    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/401.*invalid_token/);
    expect(out.error).not.toMatch(/s3cret-value|at-a|at-b/);
    expect(vendor.requests.filter((r) => r.url !== TOKEN_URL)).toHaveLength(2);
  });

  it("given a secret that is not set, when polled, then the run fails naming the env var and no request is made", async () => {
    const vendor = new VendorMock();
    vendor.install();
    const out = await poll({ type: "bearer", token: { env: "MISSING_TOKEN" } }, {});
    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/env var the source needs for auth is not set \(MISSING_TOKEN\)/);
    expect(vendor.requests).toHaveLength(0);
  });
});
