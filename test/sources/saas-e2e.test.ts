import { createMessageBatch } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { processJobsBatch } from "../../src/queue-consumers/jobs-consumer";
import { aHubspotContact, hubspotPage } from "../../src/sources/hubspot/fixtures";
import { anIntercomContact, searchAnswer } from "../../src/sources/intercom/fixtures";
import { aKlaviyoEvent, klaviyoPage } from "../../src/sources/klaviyo/fixtures";
import { findSource } from "../../src/sources/registry";
import { clearTokenCache } from "../../src/sources/rest/auth";
import { bulkCsv, bulkJob, describeBody, tokenAnswer } from "../../src/sources/salesforce/fixtures";
import { aStripeCustomer, aStripeEvent, stripeList } from "../../src/sources/stripe/fixtures";
import { aZendeskTicket, cursorExportPage } from "../../src/sources/zendesk/fixtures";
import { readEnvelopes } from "../helpers/raw-zone";
import { deliverIngest, pollEnv, quietLogs, VendorMock } from "./support";

beforeEach(() => {
  quietLogs();
  clearTokenCache();
});
afterEach(() => vi.restoreAllMocks());

let n = 0;
type Env = ReturnType<typeof pollEnv>;

/** A poll job through the real JOBS consumer and registry, its continuations drained, INGEST through the raw writer. */
async function drive(env: Env, source: string, stream: string) {
  const runId = `poll-e2e-${source}-${Date.now()}-${++n}`;
  let bodies: unknown[] = [{ kind: "poll", source, stream, run_id: runId }];
  for (let round = 0; bodies.length > 0 && round < 10; round++) {
    const batch = createMessageBatch(
      "loading-dock-jobs",
      bodies.map((body) => ({ id: `e2e-${++n}`, timestamp: new Date(), attempts: 1, body })),
    );
    await processJobsBatch(env as never, batch);
    bodies = env.JOBS.messages.splice(0).map((m) => m.body);
  }
  await deliverIngest(env.INGEST);
  return (await readEnvelopes(`raw/source=${source}/`)).filter((l) => l._dock.run_id === runId);
}

describe("SaaS sources end to end: JOBS consumer → registered source → INGEST → raw writer", () => {
  it("stripe: a customer.deleted event lands as a delete under customers", async () => {
    expect(findSource("stripe")?.streams?.map((s) => s.name)).toContain("events");
    new VendorMock()
      .on("https://api.stripe.com/v1/events?limit=100", {
        body: stripeList("/v1/events", [aStripeEvent("evt_e2e").withType("customer.deleted").about(aStripeCustomer("cus_e2e"))], false),
      })
      .install();
    const lines = await drive(pollEnv({ STRIPE_API_KEY: "sk_test_e2e" }), "stripe", "events");
    expect(lines.map((l) => [l._dock.stream, l._dock.key, l._dock.op])).toEqual([["customers", "cus_e2e", "delete"]]);
  });

  it("hubspot: a contact from the search API lands under contacts", async () => {
    new VendorMock().on("https://api.hubapi.com/crm/v3/objects/contacts/search", { body: hubspotPage([aHubspotContact("501")]) }).install();
    const lines = await drive(pollEnv({ HUBSPOT_ACCESS_TOKEN: "pat-e2e" }), "hubspot", "contacts");
    expect(lines.map((l) => [l._dock.stream, l._dock.key, l._dock.pattern])).toEqual([["contacts", "501", "poll"]]);
  });

  it("salesforce: a first load through a Bulk job (continuations on JOBS) lands under account", async () => {
    const v = "https://acme.my.salesforce.com/services/data/v62.0";
    new VendorMock()
      .on("https://login.salesforce.com/services/oauth2/token", { body: tokenAnswer("00D!e2e", "https://acme.my.salesforce.com") })
      .on(`${v}/sobjects/Account/describe`, { body: describeBody(["Id", "Name", "IsDeleted", "SystemModstamp"]) })
      .on(`${v}/jobs/query`, { body: bulkJob("750E2E", "UploadComplete") })
      .on(`${v}/jobs/query/750E2E`, { body: bulkJob("750E2E", "JobComplete") })
      .on(`${v}/jobs/query/750E2E/results?maxRecords=10000`, {
        body: bulkCsv(["Id", "Name", "IsDeleted", "SystemModstamp"], [["001E2E", "E2E Inc", "false", "2026-11-25T07:00:00.000Z"]]),
        headers: { "sforce-locator": "null" },
      })
      .install();
    const lines = await drive(
      pollEnv({ SALESFORCE_INSTANCE_URL: "https://acme.my.salesforce.com", SALESFORCE_CLIENT_ID: "cid", SALESFORCE_REFRESH_TOKEN: "rt" }),
      "salesforce",
      "account",
    );
    expect(lines.map((l) => [l._dock.stream, l._dock.key, l._dock.op])).toEqual([["account", "001E2E", "upsert"]]);
  });

  it("zendesk: a ticket from the cursor export lands under tickets", async () => {
    new VendorMock()
      .on("https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=1000", {
        body: cursorExportPage("tickets", [aZendeskTicket(9001)], "c-e2e", true),
      })
      .install();
    const lines = await drive(
      pollEnv({ ZENDESK_SUBDOMAIN: "acme", ZENDESK_EMAIL: "e@acme.test", ZENDESK_API_TOKEN: "zt" }),
      "zendesk",
      "tickets",
    );
    expect(lines.map((l) => [l._dock.stream, l._dock.key])).toEqual([["tickets", "9001"]]);
  });

  it("intercom: a contact from search lands under contacts", async () => {
    new VendorMock()
      .on("https://api.intercom.io/contacts/search", { body: searchAnswer("contacts", [anIntercomContact("ic-e2e")]) })
      .install();
    const lines = await drive(pollEnv({ INTERCOM_ACCESS_TOKEN: "it" }), "intercom", "contacts");
    expect(lines.map((l) => [l._dock.stream, l._dock.key])).toEqual([["contacts", "ic-e2e"]]);
  });

  it("klaviyo: an event lands under events", async () => {
    new VendorMock()
      .on("https://a.klaviyo.com/api/events?sort=datetime", {
        body: klaviyoPage([aKlaviyoEvent("k-e2e")], "https://a.klaviyo.com/api/events", null),
      })
      .install();
    const lines = await drive(pollEnv({ KLAVIYO_API_KEY: "pk_e2e" }), "klaviyo", "events");
    expect(lines.map((l) => [l._dock.stream, l._dock.key])).toEqual([["events", "k-e2e"]]);
  });
});
