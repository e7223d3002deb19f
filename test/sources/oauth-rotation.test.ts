import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PollAuth } from "../../src/pollers/types";
import { googleAdsAuth } from "../../src/sources/google_ads/auth";
import { hubspotAuth } from "../../src/sources/hubspot/auth";
import { clearTokenCache, restAuth } from "../../src/sources/rest/auth";
import { salesforceAuth } from "../../src/sources/salesforce/auth";
import { pollEnv, quietLogs } from "../pollers/helpers";

// Tests of this file share one D1: each starts its own chain from a configured token of its own.

/**
 * A token endpoint that rotates refresh tokens and accepts each only once (as Salesforce with
 * rotation on, HubSpot's and Google's single-use policies, most OAuth 2.1 servers): a refresh with
 * `rt-n` answers an access token and `rt-(n+1)`; `rt-n` is then spent and answers invalid_grant.
 */
function rotatingTokenEndpoint(url: string, first: string) {
  const endpoint = { live: new Set([first]), sent: [] as string[], n: 0 };
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input as RequestInfo, init);
    if (req.url !== url || req.method !== "POST") return new Response("unexpected request", { status: 418 });
    const form = new URLSearchParams(new TextDecoder().decode(await req.arrayBuffer()));
    const refresh = form.get("refresh_token") ?? "";
    endpoint.sent.push(refresh);
    if (form.get("grant_type") !== "refresh_token" || !endpoint.live.delete(refresh)) {
      return Response.json({ error: "invalid_grant", error_description: "token is not valid" }, { status: 400 });
    }
    endpoint.n++;
    const next = `rt-rotated-${endpoint.n}`;
    endpoint.live.add(next);
    return Response.json({ access_token: `at-${endpoint.n}`, token_type: "Bearer", expires_in: 3600, refresh_token: next });
  });
  return endpoint;
}

const TOKEN_URL = "https://auth.vendor.test/oauth/token";

const cases: { name: string; auth: PollAuth; url: string; vars: Record<string, string> }[] = [
  {
    name: "a declarative oauth2_refresh_token source",
    auth: restAuth({
      type: "oauth2_refresh_token",
      tokenUrl: TOKEN_URL,
      clientId: { env: "V_ID" },
      clientSecret: { env: "V_SECRET" },
      refreshToken: { env: "V_REFRESH" },
    }),
    url: TOKEN_URL,
    vars: { V_ID: "client-1", V_SECRET: "secret-1", V_REFRESH: "rt-configured-generic" },
  },
  {
    name: "Google Ads",
    auth: googleAdsAuth,
    url: "https://oauth2.googleapis.com/token",
    vars: {
      GOOGLE_ADS_CLIENT_ID: "ga-client",
      GOOGLE_ADS_CLIENT_SECRET: "ga-secret",
      GOOGLE_ADS_REFRESH_TOKEN: "rt-configured-google",
      GOOGLE_ADS_DEVELOPER_TOKEN: "dev-token",
    },
  },
  {
    name: "HubSpot (OAuth app)",
    auth: hubspotAuth,
    url: "https://api.hubapi.com/oauth/v1/token",
    vars: { HUBSPOT_CLIENT_ID: "hs-client", HUBSPOT_CLIENT_SECRET: "hs-secret", HUBSPOT_REFRESH_TOKEN: "rt-configured-hubspot" },
  },
  {
    name: "Salesforce",
    auth: salesforceAuth,
    url: "https://login.salesforce.com/services/oauth2/token",
    vars: { SALESFORCE_CLIENT_ID: "sf-client", SALESFORCE_CLIENT_SECRET: "sf-secret", SALESFORCE_REFRESH_TOKEN: "rt-configured-sf" },
  },
];

beforeEach(() => {
  quietLogs();
  clearTokenCache();
});
afterEach(() => vi.restoreAllMocks());

describe("OAuth refresh tokens that the vendor rotates", () => {
  it.each(cases.map((c) => [c.name, c] as const))(
    "given %s whose token endpoint rotates single-use refresh tokens, when the access token is refreshed three times in a row, then each refresh sends the newest token and succeeds",
    async (_, c) => {
      const configured = Object.entries(c.vars).find(([k]) => k.endsWith("REFRESH") || k.endsWith("REFRESH_TOKEN"))?.[1] as string;
      const endpoint = rotatingTokenEndpoint(c.url, configured);
      const env = pollEnv(c.vars);

      const headers: (string | undefined)[] = [];
      for (let i = 0; i < 3; i++) headers.push((await c.auth.credentials(env, { fresh: true })).headers?.authorization);

      expect(headers).toEqual(["Bearer at-1", "Bearer at-2", "Bearer at-3"]);
      expect(endpoint.sent).toEqual([configured, "rt-rotated-1", "rt-rotated-2"]);
    },
  );

  it("given a rotated refresh token, when a new isolate refreshes, then it sends the token kept in D1 (sealed: the row holds no token in clear), and every token is among the secrets redacted from logs", async () => {
    const c = cases[0] as (typeof cases)[number];
    const endpoint = rotatingTokenEndpoint(c.url, "rt-configured-isolates");
    const env = pollEnv({ ...c.vars, V_REFRESH: "rt-configured-isolates" });

    const first = await c.auth.credentials(env, { fresh: true });
    clearTokenCache(); // another isolate: nothing in memory
    const second = await c.auth.credentials(env, { fresh: true });

    expect(endpoint.sent).toEqual(["rt-configured-isolates", "rt-rotated-1"]);
    expect(second.headers?.authorization).toBe("Bearer at-2");
    const rows = await workerEnv.DB.prepare("SELECT grant_key, sealed FROM oauth_refresh_tokens").all<{
      grant_key: string;
      sealed: string;
    }>();
    const dump = JSON.stringify(rows.results);
    expect(rows.results.length).toBeGreaterThan(0);
    for (const token of ["rt-configured-isolates", "rt-rotated-1", "rt-rotated-2"]) expect(dump).not.toContain(token);
    expect(first.secrets).toEqual(expect.arrayContaining(["rt-configured-isolates", "rt-rotated-1", "at-1"]));
    expect(second.secrets).toEqual(expect.arrayContaining(["rt-rotated-1", "rt-rotated-2", "at-2"]));
  });

  it("given the operator configures a new refresh token (a new consent), when refreshed, then the new chain starts from it, not from the old chain's stored token", async () => {
    const c = cases[0] as (typeof cases)[number];
    rotatingTokenEndpoint(c.url, "rt-first-consent");
    await c.auth.credentials(pollEnv({ ...c.vars, V_REFRESH: "rt-first-consent" }), { fresh: true });
    vi.restoreAllMocks();

    const endpoint = rotatingTokenEndpoint(c.url, "rt-reconsented");
    const out = await c.auth.credentials(pollEnv({ ...c.vars, V_REFRESH: "rt-reconsented" }), { fresh: true });

    expect(endpoint.sent).toEqual(["rt-reconsented"]);
    expect(out.headers?.authorization).toBe("Bearer at-1");
  });
});
