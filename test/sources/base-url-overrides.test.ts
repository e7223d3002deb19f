import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openGate } from "../../src/pollers/rate-gate";
import { runPollStep } from "../../src/pollers/run-poll";
import { runReconcileStep } from "../../src/reconcile/run-reconcile";
import { isReconcilable } from "../../src/reconcile/types";
import { sources } from "../../src/sources/registry";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { fakeClock, pollEnv, quietLogs } from "../pollers/helpers";

/** The one host every request may go to: each source's documented overrides point here. */
const FAKE = "http://vendor-fake.test";

/**
 * What each polling or reconciling source needs for its first request, besides `<SOURCE>_API_BASE`
 * (set for every source below): credentials, settings, and every other URL it calls (token
 * endpoints, login servers) pointed at the fake. Where a source has a production URL of its own in
 * a setting (Salesforce's instance, the demo's URL), a real-looking host is set: the override must win.
 * A source added to the registry without an entry here fails the test, naming itself.
 */
const SETTINGS: Record<string, Record<string, string>> = {
  stripe: { STRIPE_API_KEY: "sk_test_overrides" },
  github: { GITHUB_API_TOKEN: "ghp_overrides", GITHUB_RECONCILE_REPO: "acme/app", GITHUB_RECONCILE_HOOK_ID: "42" },
  hubspot: {
    HUBSPOT_CLIENT_ID: "hs-client",
    HUBSPOT_CLIENT_SECRET: "hs-secret",
    HUBSPOT_REFRESH_TOKEN: "hs-refresh",
    HUBSPOT_TOKEN_URL: `${FAKE}/hubspot/oauth/v1/token`,
  },
  shopify: { SHOPIFY_SHOP: "acme", SHOPIFY_ADMIN_TOKEN: "shpat_overrides" },
  zendesk: { ZENDESK_SUBDOMAIN: "acme", ZENDESK_EMAIL: "ops@acme.test", ZENDESK_API_TOKEN: "zd-token" },
  intercom: { INTERCOM_ACCESS_TOKEN: "ic-token" },
  klaviyo: { KLAVIYO_API_KEY: "pk_overrides" },
  salesforce: {
    SALESFORCE_INSTANCE_URL: "https://acme.my.salesforce.com",
    SALESFORCE_CLIENT_ID: "sf-client",
    SALESFORCE_CLIENT_SECRET: "sf-secret",
    SALESFORCE_REFRESH_TOKEN: "sf-refresh",
    SALESFORCE_LOGIN_URL: `${FAKE}/salesforce-login`,
  },
  amplitude: { AMPLITUDE_API_KEY: "amp-key", AMPLITUDE_SECRET_KEY: "amp-secret" },
  demo: { DEMO_VENDOR_URL: "https://demo-vendor.example.com", DEMO_VENDOR_TOKEN: "demo-token" },
  google_ads: {
    GOOGLE_ADS_DEVELOPER_TOKEN: "dev-token",
    GOOGLE_ADS_CUSTOMER_IDS: "123-456-7890",
    GOOGLE_ADS_CLIENT_ID: "ga-client",
    GOOGLE_ADS_CLIENT_SECRET: "ga-secret",
    GOOGLE_ADS_REFRESH_TOKEN: "ga-refresh",
    GOOGLE_ADS_TOKEN_URL: `${FAKE}/google-oauth/token`,
  },
  meta_ads: { META_ADS_ACCESS_TOKEN: "meta-token", META_ADS_ACCOUNT_IDS: "act_1001" },
  meta: { META_ACCESS_TOKEN: "meta-page-token", META_LEAD_FORM_IDS: "4410000000001" },
};

const polled = sources.filter((s) => (s.streams ?? []).length > 0);
const listed = sources.filter((s) => isReconcilable(s.reconcile));
const calling = [...new Set([...polled, ...listed])];

function overridesEnv() {
  const vars: Record<string, string> = {};
  for (const source of calling) {
    Object.assign(vars, SETTINGS[source.name] ?? {});
    vars[`${source.name.toUpperCase()}_API_BASE`] = `${FAKE}/${source.name}`;
  }
  return pollEnv(vars);
}

/**
 * A vendor stand-in that answers everything sent to the fake host (a token to a token request,
 * `{}` to the rest: enough for every source to make its first request, not to succeed) and
 * records, separately, every request that left for any other host.
 */
function fakeVendor() {
  const seen = { fake: [] as string[], escaped: [] as string[] };
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input as RequestInfo, init);
    const line = `${req.method} ${req.url}`;
    if (new URL(req.url).origin !== FAKE) {
      seen.escaped.push(line);
      return new Response("this host is not the override", { status: 418 });
    }
    seen.fake.push(line);
    const body = req.method === "POST" ? new TextDecoder().decode(await req.clone().arrayBuffer()) : "";
    if (body.includes("grant_type=")) return Response.json({ access_token: "at-fake", expires_in: 3600 });
    return Response.json({});
  });
  return seen;
}

const NOW = Date.parse("2026-11-25T09:30:00Z");

beforeEach(() => {
  quietLogs();
  clearTokenCache();
});
afterEach(() => vi.restoreAllMocks());

describe("every URL a source calls follows the operator's overrides", () => {
  it("given the registry, then every source that polls or reconciles has its settings listed in this test", () => {
    expect(calling.map((s) => s.name).filter((name) => !(name in SETTINGS))).toEqual([]);
  });

  const streamCases = polled.flatMap((source) =>
    (source.streams ?? []).flatMap((stream) => {
      const kinds: ("poll" | "full_refresh")[] = [];
      if ((stream.intervalMinutes ?? 15) > 0 || !stream.fullRefresh) kinds.push("poll");
      if (stream.fullRefresh) kinds.push("full_refresh");
      return kinds.map((kind) => ({ source, stream: stream.name, kind }));
    }),
  );

  it.each(streamCases.map((c) => [`${c.source.name}.${c.stream} (${c.kind})`, c] as const))(
    "given every base URL and token URL set to a local fake, when %s takes one step, then every request goes to the fake",
    async (_, c) => {
      const seen = fakeVendor();
      const env = overridesEnv();

      await runPollStep(
        env,
        c.source,
        { kind: c.kind, source: c.source.name, stream: c.stream },
        { clock: fakeClock(NOW), gate: openGate, budget: { pages: 1 }, maxInlineWaitMs: 0 },
      );

      expect(seen.escaped).toEqual([]);
      expect(seen.fake.length).toBeGreaterThan(0);
    },
  );

  it.each(listed.map((s) => [s.name, s] as const))(
    "given every base URL set to a local fake, when %s's reconciliation lists one page, then every request goes to the fake",
    async (_, source) => {
      const seen = fakeVendor();
      const env = overridesEnv();

      await runReconcileStep(
        env,
        source,
        { kind: "reconcile", source: source.name },
        { clock: fakeClock(NOW), gate: openGate, budget: { pages: 1 }, maxInlineWaitMs: 0 },
      );

      expect(seen.escaped).toEqual([]);
      expect(seen.fake.length).toBeGreaterThan(0);
    },
  );
});
