import { env as workerEnv } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetCursor } from "../../src/pollers/cursor";
import { openGate } from "../../src/pollers/rate-gate";
import { runReconcileStep } from "../../src/reconcile/run-reconcile";
import { runPollStep, type StepOutcome } from "../../src/pollers/run-poll";
import type { PollSource, PollStream } from "../../src/pollers/types";
import { arrayText } from "../../src/sources/fixture-builder";
import { aHubspotContact, archived, hubspotPage, modifiedAt } from "../../src/sources/hubspot/fixtures";
import { anIntercomContact, anIntercomConversation, searchAnswer } from "../../src/sources/intercom/fixtures";
import { aKlaviyoEvent, aKlaviyoProfile, at, klaviyoPage } from "../../src/sources/klaviyo/fixtures";
import { sources } from "../../src/sources/registry";
import { SHOPIFY_API_VERSION } from "../../src/sources/shopify/auth";
import { aShopifyCustomer, aShopifyOrder, aShopifyProduct, shopifyList } from "../../src/sources/shopify/fixtures";
import { type Lead, LEAD_FIELDS, leadJson } from "../../src/sources/meta/fixtures";
import { clearTokenCache } from "../../src/sources/rest/auth";
import {
  aSalesforceAccount,
  bulkCsv,
  bulkJob,
  describeBody,
  modified,
  queryPage,
  tokenAnswer,
} from "../../src/sources/salesforce/fixtures";
import { aStripeCustomer, aStripeEvent, STRIPE_T0, stripeList } from "../../src/sources/stripe/fixtures";
import { aZendeskOrganization, aZendeskTicket, cursorExportPage, timeExportPage, ZENDESK_T0 } from "../../src/sources/zendesk/fixtures";
import { readEnvelopes } from "../helpers/raw-zone";
import { anAmplitudeEvent, anExportZip } from "../sources/amplitude-fixtures";
import { aChangeStatusRow, aSearchAnswer, aTokenAnswer } from "../sources/google-ads-fixtures";
import { aJobStatus, anInsightsPage, anInsightsRow, aReportRun } from "../sources/meta-ads-fixtures";
import { deliverIngest, fakeClock, pollEnv, quietLogs, sentIds } from "./helpers";

/**
 * Record identity, for every poll stream the registry exposes: a record whose vendor version field
 * (an updated-at time, a modstamp, a cursor value) is the same for two different states must land
 * both states, and an unchanged record polled twice must land once. Each stream runs through the
 * real poll runner (paged or stepped) and the real raw writer; the vendor is a fake answering in its
 * documented shapes, reached only through the source's documented base-URL overrides — a request
 * to any other host fails the test.
 */

/** Two states of one record that share the vendor's version field; "a" is also the unchanged record. */
type State = "a" | "b";

interface Seen {
  method: string;
  url: URL;
  body: string;
}

interface Reply {
  status?: number;
  body: string | Uint8Array;
  headers?: Record<string, string>;
}

interface Case {
  /** Credentials, and every base URL the source calls pointed at `origin`. */
  env(origin: string, sourceName: string): Record<string, string>;
  /** The record in one state, as the vendor writes it (JSON text). */
  record(state: State): string;
  /** One run's answer to a request, listing `records`; undefined = a request the vendor does not serve. */
  answer(req: Seen, records: string[]): Reply | undefined;
  /** Where the record lands: its stream and `_dock.key`. */
  lands: { stream: string; key: string };
  /** A cursor stored before every run (a stepped stream that re-reads a range only from one). */
  cursorBeforeRun?: string;
  /** The run's kind when not the stream's own (a full refresh of a polled stream). */
  kind?: "poll" | "full_refresh";
}

/**
 * Poll streams that this test does not drive, with the reason. Empty: every stream is driven. A
 * stream the registry gains without a driver below and without a line here fails the coverage test.
 */
const NOT_DRIVEN: Record<string, string> = {};

const NOW = Date.parse("2026-11-25T09:30:00Z");
const json = (body: string): Reply => ({ body });

// ---------------------------------------------------------------- stripe

function stripeCase(stream: PollStream): Case {
  const env = (origin: string) => ({ STRIPE_API_KEY: "sk_test_identity", STRIPE_API_BASE: origin });
  if (stream.name === "events") {
    // Two states of a customer are two events (each its own id); the same event twice is one record.
    const event = (state: State) =>
      aStripeEvent(`evt_identity_${state}`)
        .withType("customer.updated")
        .about(aStripeCustomer("cus_identity").with({ email: `${state}@example.test` }))
        .text();
    return {
      env,
      record: event,
      answer: (req, records) =>
        req.method === "GET" && req.url.pathname === "/v1/events" ? json(stripeList("/v1/events", records, false)) : undefined,
      lands: { stream: "customers", key: "cus_identity" },
    };
  }
  const path = `/v1/${stream.name}`;
  const object = stream.name.replace(/s$/, "");
  return {
    env,
    // `updated` in seconds: two edits within one second share it.
    record: (state) =>
      JSON.stringify({
        id: `${object}_identity`,
        object,
        created: STRIPE_T0 - 86_400,
        updated: STRIPE_T0,
        description: `state ${state}`,
        livemode: false,
      }),
    answer: (req, records) => (req.method === "GET" && req.url.pathname === path ? json(stripeList(path, records, false)) : undefined),
    lands: { stream: stream.name, key: `${object}_identity` },
  };
}

// ---------------------------------------------------------------- hubspot

function hubspotCase(stream: PollStream): Case {
  const env = (origin: string) => ({ HUBSPOT_ACCESS_TOKEN: "pat-identity", HUBSPOT_API_BASE: origin });
  const type = stream.name.replace(/_archived$/, "");
  const T = "2026-11-25T07:00:00.000Z";
  const object = (state: State) =>
    modifiedAt(aHubspotContact("501"), T).with({ properties: { email: `${state}@example.test`, lastmodifieddate: T } });
  if (stream.name.endsWith("_archived")) {
    return {
      env,
      record: (state) => archived(object(state), "2026-11-25T07:00:01.000Z").text(),
      answer: (req, records) =>
        req.method === "GET" && req.url.pathname === `/crm/v3/objects/${type}` && req.url.searchParams.get("archived") === "true"
          ? json(hubspotPage(records))
          : undefined,
      lands: { stream: type, key: "501" },
    };
  }
  return {
    env,
    record: (state) => object(state).text(),
    answer: (req, records) =>
      req.method === "POST" && req.url.pathname === `/crm/v3/objects/${type}/search` ? json(hubspotPage(records)) : undefined,
    lands: { stream: type, key: "501" },
  };
}

// ---------------------------------------------------------------- zendesk

function zendeskCase(stream: PollStream): Case {
  const env = (origin: string) => ({ ZENDESK_API_BASE: origin, ZENDESK_EMAIL: "ops@acme.test", ZENDESK_API_TOKEN: "zd-identity" });
  const lands = { stream: stream.name, key: "4242" };
  if (stream.name === "organizations") {
    return {
      env,
      record: (state) =>
        aZendeskOrganization(4242)
          .with({ name: `Org ${state}` })
          .text(),
      answer: (req, records) =>
        req.method === "GET" && req.url.pathname === "/api/v2/incremental/organizations.json"
          ? json(timeExportPage("organizations", records.map(textOf), ZENDESK_T0, true))
          : undefined,
      lands,
    };
  }
  // Tickets by generated_timestamp, users by updated_at: both whole seconds.
  const record =
    stream.name === "tickets"
      ? (state: State) =>
          aZendeskTicket(4242)
            .with({ subject: `Ticket ${state}` })
            .text()
      : (state: State) =>
          JSON.stringify({
            id: 4242,
            name: `User ${state}`,
            email: "u@acme.test",
            active: true,
            role: "end-user",
            updated_at: "2026-11-25T07:00:00Z",
          });
  return {
    env,
    record,
    answer: (req, records) =>
      req.method === "GET" && req.url.pathname === `/api/v2/incremental/${stream.name}/cursor.json`
        ? json(cursorExportPage(stream.name, records.map(textOf), "c-identity", true))
        : undefined,
    lands,
  };
}

// ---------------------------------------------------------------- shopify

function shopifyCase(stream: PollStream): Case {
  const path = `/admin/api/${SHOPIFY_API_VERSION}/${stream.name}.json`;
  const build = { orders: aShopifyOrder, products: aShopifyProduct, customers: aShopifyCustomer }[stream.name as "orders"];
  return {
    env: (origin) => ({ SHOPIFY_ADMIN_TOKEN: "shpat_identity", SHOPIFY_API_BASE: origin }),
    // updated_at in whole seconds, in the shop's offset: two edits within one second share it.
    record: (state) =>
      build(6_400_000_000_001, "2026-11-25T02:00:00-05:00")
        .with({ note: `state ${state}` })
        .text(),
    answer: (req, records) => (req.method === "GET" && req.url.pathname === path ? json(shopifyList(stream.name, records)) : undefined),
    lands: { stream: stream.name, key: "6400000000001" },
  };
}

// ---------------------------------------------------------------- intercom

function intercomCase(stream: PollStream): Case {
  const kind = stream.name as "contacts" | "conversations";
  return {
    env: (origin) => ({ INTERCOM_ACCESS_TOKEN: "ic-identity", INTERCOM_API_BASE: origin }),
    // updated_at in seconds (the cursor field, the version).
    record: (state) =>
      kind === "contacts"
        ? anIntercomContact("6762f0000000000000000042")
            .with({ email: `${state}@example.test` })
            .text()
        : anIntercomConversation("42")
            .with({ state: state === "a" ? "open" : "closed", open: state === "a" })
            .text(),
    answer: (req, records) =>
      req.method === "POST" && req.url.pathname === `/${kind}/search` ? json(searchAnswer(kind, records.map(textOf))) : undefined,
    lands: { stream: kind, key: kind === "contacts" ? "6762f0000000000000000042" : "42" },
  };
}

// ---------------------------------------------------------------- klaviyo

function klaviyoCase(stream: PollStream): Case {
  const path = `/api/${stream.name}`;
  const id = stream.name === "events" ? "4sDShKQjrdIDENTITY" : "01GDDKASAP8TKDDA2GRZDSVIDE";
  const T = "2026-11-25T07:00:00+00:00";
  return {
    env: (origin) => ({ KLAVIYO_API_KEY: "pk_identity", KLAVIYO_API_BASE: origin }),
    // The cursor fields (`datetime`, `updated`) are whole seconds.
    record: (state) => {
      const b = stream.name === "events" ? at(aKlaviyoEvent(id), "datetime", T) : at(aKlaviyoProfile(id), "updated", T);
      const attributes = b.get("attributes") as Record<string, unknown>;
      const changed =
        stream.name === "events" ? { event_properties: { value: state === "a" ? 12.5 : 20 } } : { email: `${state}@example.test` };
      return b.with({ attributes: { ...attributes, ...changed } }).text();
    },
    answer: (req, records) =>
      req.method === "GET" && req.url.pathname === path
        ? json(klaviyoPage(records.map(textOf), `${req.url.origin}${path}`, null))
        : undefined,
    lands: { stream: stream.name, key: id },
  };
}

// ---------------------------------------------------------------- salesforce (stepped)

function salesforceCase(stream: PollStream): Case {
  const object = stream.path.replace("/sobjects/", "");
  const v = "/services/data/v62.0";
  const id = "001000000000000IDE";
  return {
    env: (origin) => ({
      SALESFORCE_INSTANCE_URL: origin,
      SALESFORCE_LOGIN_URL: origin,
      SALESFORCE_CLIENT_ID: "cid-identity",
      SALESFORCE_REFRESH_TOKEN: "rt-identity",
    }),
    // SystemModstamp has whole seconds (its milliseconds are always .000).
    record: (state) =>
      modified(aSalesforceAccount(id), "2026-11-25T07:00:00.000Z")
        .with({ attributes: { type: object, url: `${v}/sobjects/${object}/${id}` }, Name: `${object} ${state}` })
        .text(),
    answer: (req, records) => {
      if (req.method === "POST" && req.url.pathname === "/services/oauth2/token") return json(tokenAnswer("00D!identity", req.url.origin));
      if (req.method === "GET" && req.url.pathname === `${v}/sobjects/${object}/describe`) {
        return json(describeBody(["Id", "Name", "IsDeleted", "SystemModstamp"]));
      }
      if (req.method === "GET" && req.url.pathname === `${v}/queryAll`) return json(queryPage(records.map(textOf)));
      return undefined;
    },
    lands: { stream: stream.name, key: id },
    // With a cursor every run is a REST queryAll (the Bulk first load is for a stream's very first run).
    cursorBeforeRun: "2026-11-25T06:00:00.000Z",
  };
}

/** A Salesforce object read by a Bulk API 2.0 queryAll job (a first load or a full refresh): CSV rows. */
function salesforceBulkCase(stream: PollStream): Case {
  const object = stream.path.replace("/sobjects/", "");
  const v = "/services/data/v62.0";
  const rest = salesforceCase(stream);
  const job = "750000000000IDE";
  return {
    ...rest,
    record: (state) =>
      JSON.stringify({
        Id: "001000000000000IDE",
        Name: `${object} ${state}`,
        IsDeleted: "false",
        SystemModstamp: "2026-11-25T07:00:00.000Z",
      }),
    answer: (req, records) => {
      if (req.method === "POST" && req.url.pathname === `${v}/jobs/query`) return json(bulkJob(job, "UploadComplete"));
      if (req.method === "GET" && req.url.pathname === `${v}/jobs/query/${job}`) return json(bulkJob(job, "JobComplete"));
      if (req.method === "GET" && req.url.pathname === `${v}/jobs/query/${job}/results`) {
        const rows = records.map((r) => JSON.parse(r) as Record<string, string>);
        const header = Object.keys(rows[0] ?? {});
        return {
          body: bulkCsv(
            header,
            rows.map((r) => header.map((h) => r[h] ?? "")),
          ),
          headers: { "sforce-locator": "null", "content-type": "text/csv" },
        };
      }
      return rest.answer(req, records);
    },
    cursorBeforeRun: undefined,
    kind: "full_refresh",
  };
}

// ---------------------------------------------------------------- amplitude (stepped)

function amplitudeCase(): Case {
  const hour = "20261125T06";
  const { event } = anAmplitudeEvent(1, hour);
  return {
    env: (origin, name) => ({
      AMPLITUDE_API_KEY: "amp-identity",
      AMPLITUDE_SECRET_KEY: "amp-secret",
      [`${name.toUpperCase()}_API_BASE`]: origin,
    }),
    // server_upload_time is the same; an event re-exported with other properties is another state.
    record: (state) => JSON.stringify({ ...event, event_properties: { plan: state } }),
    answer: (req, records) =>
      req.method === "GET" && req.url.pathname === "/api/2/export" && req.url.searchParams.get("start") === hour
        ? { body: anExportZip(123456, { [hour]: [records] }), headers: { "content-type": "application/zip" } }
        : undefined,
    lands: { stream: "export_events", key: event.uuid },
    // Each run re-exports the hour (an operator's backfill of it).
    cursorBeforeRun: "20261125T05",
  };
}

// ---------------------------------------------------------------- google ads (stepped)

function googleAdsCase(stream: PollStream): Case {
  const customer = "1234567890";
  const env = (origin: string, name: string) => ({
    GOOGLE_ADS_CLIENT_ID: "cid-identity",
    GOOGLE_ADS_CLIENT_SECRET: "cs-identity",
    GOOGLE_ADS_REFRESH_TOKEN: "rt-identity",
    GOOGLE_ADS_DEVELOPER_TOKEN: "dev-identity",
    GOOGLE_ADS_CUSTOMER_IDS: customer,
    GOOGLE_ADS_TOKEN_URL: `${origin}/token`,
    [`${name.toUpperCase()}_API_BASE`]: origin,
  });
  const answer = (row: (records: string[]) => string) => (req: Seen, records: string[]) => {
    if (req.method === "POST" && req.url.pathname === "/token") return json(aTokenAnswer("ya29.identity"));
    if (req.method === "POST" && req.url.pathname === `/customers/${customer}/googleAds:search`) return json(row(records));
    return undefined;
  };
  const searchAnswer = (records: string[]) => aSearchAnswer(records.map((r) => JSON.parse(r) as unknown)).json();
  if (stream.name === "change_status") {
    // last_change_date_time is the version; a second change in the same instant is another state.
    return {
      env,
      record: (state) =>
        JSON.stringify(aChangeStatusRow(customer, "CAMPAIGN", "11", state === "a" ? "ADDED" : "CHANGED", "2026-11-25 07:00:00")),
      answer: answer(searchAnswer),
      lands: { stream: "change_status", key: `customers/${customer}/campaigns/11` },
    };
  }
  const paths = Array.isArray(stream.primaryKey) ? stream.primaryKey : [stream.primaryKey];
  const row = (state: State) => ({
    customer: { resourceName: `customers/${customer}`, id: customer },
    campaign: { resourceName: `customers/${customer}/campaigns/11`, id: "11", name: "Campaign 11" },
    adGroup: { resourceName: `customers/${customer}/adGroups/77`, id: "77", name: "Ad group 77" },
    metrics: { impressions: "1200", clicks: "48", conversions: state === "a" ? 3 : 5 },
    segments: { date: "2026-11-24" },
  });
  const keyOf = (r: ReturnType<typeof row>) =>
    paths.map((p) => p.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], r) as string).join("|");
  return {
    env,
    record: (state) => JSON.stringify(row(state)),
    answer: answer(searchAnswer),
    lands: { stream: stream.name, key: keyOf(row("a")) },
  };
}

// ---------------------------------------------------------------- meta ads (stepped)

function metaAdsCase(stream: PollStream): Case {
  const job = "900000000000001";
  return {
    env: (origin, name) => ({
      META_ADS_ACCESS_TOKEN: "EAAB-identity",
      META_ADS_ACCOUNT_IDS: "1000001",
      [`${name.toUpperCase()}_API_BASE`]: origin,
    }),
    record: (state) =>
      JSON.stringify(
        anInsightsRow("23850000000001001", "2026-11-24")
          .withSpend(state === "a" ? "41.37" : "52.10")
          .build(),
      ),
    answer: (req, records) => {
      if (req.method === "POST" && req.url.pathname === "/act_1000001/insights") return json(aReportRun(job));
      if (req.method === "GET" && req.url.pathname === `/${job}`) return json(aJobStatus(job, "Job Completed", 100));
      if (req.method === "GET" && req.url.pathname === `/${job}/insights`)
        return json(
          anInsightsPage(
            job,
            records.map((r) => JSON.parse(r) as unknown),
          ),
        );
      return undefined;
    },
    lands: { stream: stream.name, key: "23850000000001001|2026-11-24" },
  };
}

// ---------------------------------------------------------------- meta (leads of lead forms)

function metaCase(stream: PollStream): Case {
  const form = "4410000000001";
  const lead = (state: State): Lead => ({
    id: "880000000777",
    formId: form,
    pageId: "102030405060708",
    createdTime: Math.floor(NOW / 1000) - 3600,
    email: `${state}@example.test`,
  });
  return {
    env: (origin, name) => ({
      META_ACCESS_TOKEN: "EAAB-identity",
      META_LEAD_FORM_IDS: form,
      [`${name.toUpperCase()}_API_BASE`]: origin,
    }),
    record: (state) => JSON.stringify(leadJson(lead(state))),
    answer: (req, records) =>
      req.method === "GET" && req.url.pathname === `/${form}/leads` && req.url.searchParams.get("fields") === LEAD_FIELDS
        ? json(JSON.stringify({ data: records.map((r) => JSON.parse(r) as unknown) }))
        : undefined,
    lands: { stream: stream.name, key: "880000000777" },
  };
}

// ---------------------------------------------------------------- demo (declarative REST)

function demoCase(stream: PollStream): Case {
  const record = (state: State) =>
    JSON.stringify({ id: "it_identity", name: `Item ${state}`, updated_at: "2026-11-25T07:00:00Z", created_at: "2026-11-01T00:00:00Z" });
  const bodies: Record<string, (records: string[]) => string> = {
    items: (r) => `{"data":${arrayText(r)},"has_more":false,"next_cursor":null}`,
    customers: (r) => `{"data":${arrayText(r)},"has_more":false}`,
    orders: (r) => arrayText(r),
    plans: (r) => `{"items":${arrayText(r)},"total":${r.length}}`,
  };
  const body = bodies[stream.name];
  if (!body) throw new Error(`demo.${stream.name}: no page shape known to this test`);
  return {
    env: (origin) => ({ DEMO_VENDOR_URL: origin, DEMO_VENDOR_TOKEN: "demo-identity" }),
    record,
    answer: (req, records) => (req.method === "GET" && req.url.pathname === stream.path ? json(body(records)) : undefined),
    lands: { stream: stream.name, key: "it_identity" },
  };
}

function textOf(text: string): { text(): string } {
  return { text: () => text };
}

/** How to serve each poll source's streams, by source name. */
const DRIVERS: Record<string, (stream: PollStream) => Case> = {
  stripe: stripeCase,
  hubspot: hubspotCase,
  shopify: shopifyCase,
  zendesk: zendeskCase,
  intercom: intercomCase,
  klaviyo: klaviyoCase,
  salesforce: salesforceCase,
  amplitude: amplitudeCase,
  google_ads: googleAdsCase,
  meta_ads: metaAdsCase,
  meta: metaCase,
  demo: demoCase,
};

/** Other ways a stream reads the same records: Salesforce's Bulk API (first loads, full refreshes) besides REST. */
function variants(p: { source: PollSource; stream: PollStream; id: string }) {
  return p.source.name === "salesforce" ? [{ ...p, id: `${p.id} (Bulk API 2.0, full refresh)`, c: salesforceBulkCase(p.stream) }] : [];
}

/** Every (source, stream) the registry polls. */
const POLLED = sources.flatMap((source) =>
  (source.streams ?? []).map((stream) => ({ source, stream, id: `${source.name}.${stream.name}` })),
);
const DRIVEN = POLLED.filter((p) => DRIVERS[p.source.name] && !(p.id in NOT_DRIVEN));

/**
 * The fake vendor of one case: answers only requests to its own origin that the case serves, with
 * the records of the current run; anything else (another host, an unknown path) is recorded and
 * answered 418, which fails the run.
 */
class FakeVendor {
  records: string[] = [];
  readonly unexpected: string[] = [];
  readonly hosts = new Set<string>();
  constructor(
    readonly origin: string,
    private readonly c: Case,
  ) {}

  install() {
    return vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input as RequestInfo, init);
      const url = new URL(req.url);
      this.hosts.add(url.origin);
      const body = req.method === "GET" ? "" : new TextDecoder().decode(await req.clone().arrayBuffer());
      const reply = url.origin === this.origin ? this.c.answer({ method: req.method, url, body }, this.records) : undefined;
      if (!reply) {
        this.unexpected.push(`${req.method} ${req.url}`);
        return new Response("unexpected request", { status: 418 });
      }
      return new Response(reply.body, { status: reply.status ?? 200, headers: { "content-type": "application/json", ...reply.headers } });
    });
  }
}

let counter = 0;

/** The registry's source under a fresh name (tests share one D1 and one bucket). */
function fresh(source: PollSource): PollSource {
  return { ...source, name: `${source.name}_id${Date.now() % 100000}_${++counter}` };
}

/** One run of the stream serving `records`, its continuations included, to the end. */
async function pollOnce(
  env: ReturnType<typeof pollEnv>,
  source: PollSource,
  stream: PollStream,
  c: Case,
  vendor: FakeVendor,
  clock: ReturnType<typeof fakeClock>,
  records: string[],
): Promise<StepOutcome> {
  vendor.records = records;
  if (c.cursorBeforeRun) await resetCursor(workerEnv.DB, source.name, stream.name, c.cursorBeforeRun);
  const kind = c.kind ?? (stream.fullRefresh ? "full_refresh" : "poll");
  const runId = `${kind === "poll" ? "poll" : "fr"}-identity-${++counter}`;
  let out: StepOutcome | undefined;
  for (let step = 0; step < 20; step++) {
    out = await runPollStep(env, source, { kind, source: source.name, stream: stream.name, run_id: runId }, { clock, gate: openGate });
    if (out.status !== "continued" && out.status !== "deferred") break;
    const delays = env.JOBS.messages.splice(0).map((m) => m.delaySeconds ?? 0);
    clock.t += Math.max(1, ...delays) * 1000;
  }
  clock.t += 15 * 60_000;
  return out as StepOutcome;
}

async function landedFor(env: ReturnType<typeof pollEnv>, source: PollSource, c: Case) {
  await deliverIngest(env.INGEST);
  return (await readEnvelopes(`raw/source=${source.name}/stream=${c.lands.stream}/`)).filter((l) => l._dock.key === c.lands.key);
}

beforeEach(() => {
  quietLogs();
  clearTokenCache();
});
afterEach(() => vi.restoreAllMocks());

describe("record identity: every poll stream of the registry", () => {
  it("given the registry, when its poll streams are listed, then each one is driven below or listed with the reason it is not", () => {
    const unaccounted = POLLED.filter((p) => !DRIVERS[p.source.name] && !(p.id in NOT_DRIVEN)).map((p) => p.id);
    expect(unaccounted).toEqual([]);
    expect(Object.keys(NOT_DRIVEN).filter((id) => !POLLED.some((p) => p.id === id))).toEqual([]);
    expect(DRIVEN.length).toBeGreaterThan(0);
  });

  describe.each(DRIVEN.flatMap((p) => [{ ...p, c: DRIVERS[p.source.name]?.(p.stream) as Case }, ...variants(p)]))(
    "$id",
    ({ source: registered, stream, c }) => {
      it("given a record changed twice within one second of its version field, when polled after each change, then both states land under two _dock.ids", async () => {
        expect(c.record("a")).not.toBe(c.record("b"));
        const source = fresh(registered);
        const vendor = new FakeVendor(`https://${source.name.replace(/_/g, "-")}.vendor-fake.test`, c);
        vendor.install();
        const env = pollEnv(c.env(vendor.origin, source.name));
        const clock = fakeClock(NOW);

        const first = await pollOnce(env, source, stream, c, vendor, clock, [c.record("a")]);
        const second = await pollOnce(env, source, stream, c, vendor, clock, [c.record("b")]);

        expect(vendor.unexpected).toEqual([]);
        expect([...vendor.hosts]).toEqual([vendor.origin]);
        expect([first.status, first.error, second.status, second.error]).toEqual(["succeeded", undefined, "succeeded", undefined]);
        const lines = await landedFor(env, source, c);
        expect(new Set(lines.map((l) => l._dock.id)).size).toBe(2);
        expect(lines.map((l) => JSON.stringify(l.data)).sort()).toEqual(
          [c.record("a"), c.record("b")].map((r) => JSON.stringify(JSON.parse(r))).sort(),
        );
      });

      it("given an unchanged record, when polled twice, then it lands once (a snapshot stream: once per snapshot, under one _dock.id)", async () => {
        const source = fresh(registered);
        const vendor = new FakeVendor(`https://${source.name.replace(/_/g, "-")}.vendor-fake.test`, c);
        vendor.install();
        const env = pollEnv(c.env(vendor.origin, source.name));
        const clock = fakeClock(NOW);

        const first = await pollOnce(env, source, stream, c, vendor, clock, [c.record("a")]);
        const second = await pollOnce(env, source, stream, c, vendor, clock, [c.record("a")]);

        expect(vendor.unexpected).toEqual([]);
        expect([...vendor.hosts]).toEqual([vendor.origin]);
        expect([first.status, first.error, second.status, second.error]).toEqual(["succeeded", undefined, "succeeded", undefined]);
        const lines = await landedFor(env, source, c);
        expect(lines).toHaveLength((c.kind ?? (stream.fullRefresh ? "full_refresh" : "poll")) === "full_refresh" ? 2 : 1);
        expect(new Set(lines.map((l) => l._dock.id)).size).toBe(1);
        expect(JSON.stringify(lines[0]?.data)).toBe(JSON.stringify(JSON.parse(c.record("a"))));
      });
    },
  );
});

describe("record identity: reconciliation meets the poll", () => {
  it("given a Stripe event polled from the events stream, when reconciliation recovers the same event, then both carry one _dock.id and it lands once", async () => {
    const registered = sources.find((s) => s.name === "stripe") as PollSource;
    const stream = registered.streams?.find((s) => s.name === "events") as PollStream;
    const c = stripeCase(stream);
    const source = { ...(registered as (typeof sources)[number]), name: fresh(registered).name };
    const vendor = new FakeVendor(`https://${source.name.replace(/_/g, "-")}.vendor-fake.test`, c);
    vendor.install();
    // The listing's own base URL is the source's `<SOURCE>_API_BASE`; the poll's is STRIPE_API_BASE.
    const env = pollEnv({ ...c.env(vendor.origin, source.name), [`${source.name.toUpperCase()}_API_BASE`]: vendor.origin });
    const clock = fakeClock(NOW);

    const polled = await pollOnce(env, source, stream, c, vendor, clock, [c.record("a")]);
    const pollIds = sentIds(env.INGEST);
    await deliverIngest(env.INGEST);
    vendor.records = [c.record("a")];
    const reconciled = await runReconcileStep(
      env,
      source,
      { kind: "reconcile", source: source.name, from: "2026-11-25T06:00:00.000Z", to: "2026-11-25T08:00:00.000Z" },
      { clock, gate: openGate },
    );
    const reconcileIds = sentIds(env.INGEST);

    expect(vendor.unexpected).toEqual([]);
    expect(polled.status).toBe("succeeded");
    expect(reconciled).toMatchObject({ status: "succeeded", listed: 1, recovered: 1 });
    expect(pollIds).toHaveLength(1);
    expect(reconcileIds).toEqual(pollIds);
    const lines = await landedFor(env, source, c);
    expect(lines.map((l) => [l._dock.id, l._dock.pattern, l._dock.version])).toEqual([[pollIds[0], "poll", "evt_identity_a"]]);
  });
});
