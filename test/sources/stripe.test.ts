import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { dockId } from "../../src/envelope/dock-id";
import { resetCursor } from "../../src/pollers/cursor";
import { env as workerEnv } from "cloudflare:workers";
import { gateFor } from "../../src/pollers/run-poll";
import { duePollJobs } from "../../src/pollers/schedule";
import { stripe } from "../../src/sources/stripe";
import { aStripeCharge, aStripeCustomer, aStripeEvent, STRIPE_T0, stripeError, stripeList } from "../../src/sources/stripe/fixtures";
import { stripeEventRecord } from "../../src/sources/stripe/events";
import { readLines } from "../helpers/raw-zone";
import { fakeClock, landed, pollEnv, quietLogs, renamed, run, runRow, storedCursor, VendorMock } from "./support";

const API = "https://api.stripe.com/v1";
const KEY = "sk_test_51Hloadingdocksecretkey0000";

beforeEach(quietLogs);
afterEach(() => vi.restoreAllMocks());

describe("stripe polling: the events stream", () => {
  it("given no cursor, when polled, then every page is read to the end and each event lands under its object's stream like a webhook", async () => {
    const source = renamed(stripe);
    const e1 = aStripeEvent("evt_3")
      .createdAt(STRIPE_T0 + 30)
      .about(aStripeCustomer("cus_A").withRaw("balance", "12345678901234567890"));
    const e2 = aStripeEvent("evt_2")
      .withType("charge.succeeded")
      .createdAt(STRIPE_T0 + 20)
      .about(aStripeCharge("ch_B"));
    const e3 = aStripeEvent("evt_1")
      .withType("customer.created")
      .createdAt(STRIPE_T0 + 10)
      .about(aStripeCustomer("cus_A"));
    const vendor = new VendorMock()
      .on(`${API}/events?limit=100`, { body: stripeList("/v1/events", [e1, e2], true) })
      .on(`${API}/events?limit=100&starting_after=evt_2`, { body: stripeList("/v1/events", [e3], false) });
    vendor.install();
    const env = pollEnv({ STRIPE_API_KEY: KEY });

    const out = await run(env, source, "events");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", pages: 2, records: 3 });
    expect(vendor.requests.map((r) => r.headers.get("authorization"))).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
    expect(await storedCursor(source, "events")).toBe(String(STRIPE_T0 + 30));
    const lines = await landed(env, source);
    expect(lines.map((l) => [l._dock.stream, l._dock.key, l._dock.version, l._dock.op]).sort()).toEqual([
      ["charges", "ch_B", "evt_2", "event"],
      ["customers", "cus_A", "evt_1", "event"],
      ["customers", "cus_A", "evt_3", "event"],
    ]);
    // The 64-bit balance survives: the payload was spliced, not re-serialised.
    expect((await readLines(`raw/source=${source.name}/stream=customers/`)).join("\n")).toContain('"balance":12345678901234567890');
  });

  it("given a stored cursor, when polled, then the request asks for created[gte] = cursor − 5 minutes with the API key", async () => {
    const source = renamed(stripe);
    const env = pollEnv({ STRIPE_API_KEY: KEY });
    await resetCursor(env.DB, source.name, "events", String(STRIPE_T0));
    const newer = aStripeEvent().createdAt(STRIPE_T0 + 60);
    const vendor = new VendorMock().on(`${API}/events?created[gte]=${STRIPE_T0 - 300}&limit=100`, {
      body: stripeList("/v1/events", [newer], false),
    });
    vendor.install();

    const out = await run(env, source, "events");

    expect(vendor.unexpected).toEqual([]);
    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    const [request] = vendor.requests;
    expect(request?.method).toBe("GET");
    expect(new URL(request?.url as string).pathname).toBe("/v1/events");
    expect(Object.fromEntries(new URL(request?.url as string).searchParams)).toEqual({
      "created[gte]": String(STRIPE_T0 - 300),
      limit: "100",
    });
    expect(request?.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(await storedCursor(source, "events")).toBe(String(STRIPE_T0 + 60));
  });

  it("given an event seen again in the overlap, when polled twice, then both copies carry the same _dock.id as the webhook path gives it", async () => {
    const source = renamed(stripe);
    const event = aStripeEvent("evt_same").createdAt(STRIPE_T0);
    const vendor = new VendorMock()
      .on(`${API}/events?limit=100`, { body: stripeList("/v1/events", [event], false) })
      .on(`${API}/events?created[gte]=${STRIPE_T0 - 300}&limit=100`, { body: stripeList("/v1/events", [event], false) });
    vendor.install();
    const env = pollEnv({ STRIPE_API_KEY: KEY });

    await run(env, source, "events");
    await run(env, source, "events");

    const ids = env.INGEST.messages.flatMap((m) => (m.body as { records: { id: string }[] }).records.map((r) => r.id));
    const webhook = stripeEventRecord(JSON.parse(event.text()));
    expect(ids).toEqual([
      await dockId(source.name, webhook.stream, webhook.key, webhook.version),
      await dockId(source.name, webhook.stream, webhook.key, webhook.version),
    ]);
  });

  it("given a customer.deleted event, when polled, then it lands in the raw zone as a delete of that customer", async () => {
    const source = renamed(stripe);
    const deleted = aStripeEvent("evt_del")
      .withType("customer.deleted")
      .about(aStripeCustomer("cus_gone").with({ deleted: true }));
    const vendor = new VendorMock().on(`${API}/events?limit=100`, { body: stripeList("/v1/events", [deleted], false) });
    vendor.install();
    const env = pollEnv({ STRIPE_API_KEY: KEY });

    await run(env, source, "events");

    const lines = await landed(env, source);
    expect(lines).toHaveLength(1);
    expect(lines[0]?._dock).toMatchObject({ stream: "customers", key: "cus_gone", op: "delete", version: "evt_del", pattern: "poll" });
  });

  it("given a run that fails on page 2, when polled, then the cursor stays where it was (pages come newest first) and the next run repeats from it", async () => {
    const source = renamed(stripe);
    const env = pollEnv({ STRIPE_API_KEY: KEY });
    await resetCursor(env.DB, source.name, "events", String(STRIPE_T0));
    const vendor = new VendorMock()
      .on(`${API}/events?created[gte]=${STRIPE_T0 - 300}&limit=100`, {
        body: stripeList("/v1/events", [aStripeEvent("evt_new").createdAt(STRIPE_T0 + 900)], true),
      })
      .on(`${API}/events?created[gte]=${STRIPE_T0 - 300}&limit=100&starting_after=evt_new`, {
        status: 400,
        body: stripeError("invalid_request_error", "No such event: 'evt_new'"),
      });
    vendor.install();

    const out = await run(env, source, "events");

    expect(out.status).toBe("failed");
    expect(out.error).toContain("No such event");
    // The newest event was read, but older ones of this run were not: moving to its time would skip them.
    expect(await storedCursor(source, "events")).toBe(String(STRIPE_T0));
  });

  it("given Stripe answers 429 (rate limited), when polled, then the same request is retried after a jittered backoff and the run completes", async () => {
    const source = renamed(stripe);
    const vendor = new VendorMock().on(
      `${API}/events?limit=100`,
      { status: 429, body: stripeError("invalid_request_error", "Too many requests made to the API too quickly", "rate_limit") },
      { body: stripeList("/v1/events", [aStripeEvent()], false) },
    );
    vendor.install();
    const waits: [number, string][] = [];

    const out = await run(pollEnv({ STRIPE_API_KEY: KEY }), source, "events", { onWait: (ms, why) => waits.push([ms, why]) });

    expect(out).toMatchObject({ status: "succeeded", records: 1 });
    expect(vendor.requests).toHaveLength(2);
    expect(vendor.requests[1]?.url).toBe(vendor.requests[0]?.url);
    expect(waits).toHaveLength(1);
    expect(waits[0]?.[1]).toBe("status 429");
    expect(waits[0]?.[0]).toBeGreaterThan(0);
  });

  it("given a revoked key (401), when polled, then the run fails naming the status and the key appears nowhere", async () => {
    const source = renamed(stripe);
    const vendor = new VendorMock().on(`${API}/events?limit=100`, {
      status: 401,
      body: stripeError("invalid_request_error", `Invalid API Key provided: ${KEY}`),
    });
    vendor.install();

    const out = await run(pollEnv({ STRIPE_API_KEY: KEY }), source, "events");

    expect(out.status).toBe("failed");
    expect(out.error).toMatch(/answered 401: .*Invalid API Key/);
    expect(out.error).not.toContain(KEY);
    const row = await runRow(out.runId);
    expect(row).toMatchObject({ status: "failed" });
    expect(row?.error).not.toContain(KEY);
  });

  it("given no API key, when the scheduler ticks, then no Stripe stream is due; with a key only the events stream is", async () => {
    const source = renamed(stripe);
    const now = new Date("2026-11-25T08:00:00Z");
    expect(await duePollJobs(workerEnv.DB, [source], {}, now)).toEqual([]);
    const due = await duePollJobs(workerEnv.DB, [source], { STRIPE_API_KEY: KEY }, now);
    expect(due.map((j) => j.stream)).toEqual(["events"]);
  });
});

describe("stripe polling: backfill of objects and caps", () => {
  it("given a backfill of customers, when run, then every page lands as one snapshot with a manifest", async () => {
    const source = renamed(stripe);
    const vendor = new VendorMock()
      .on(`${API}/customers?limit=100`, { body: stripeList("/v1/customers", [aStripeCustomer("cus_1"), aStripeCustomer("cus_2")], true) })
      .on(`${API}/customers?limit=100&starting_after=cus_2`, { body: stripeList("/v1/customers", [aStripeCustomer("cus_3")], false) });
    vendor.install();
    const env = pollEnv({ STRIPE_API_KEY: KEY });

    const out = await run(env, source, "customers", { kind: "full_refresh" });

    expect(out).toMatchObject({ status: "succeeded", records: 3 });
    const lines = await landed(env, source);
    expect(lines.map((l) => [l._dock.key, l._dock.op])).toEqual([
      ["cus_1", "snapshot"],
      ["cus_2", "snapshot"],
      ["cus_3", "snapshot"],
    ]);
  });

  it("given STRIPE_API_VERSION, when backfilled, then every request pins that Stripe-Version; without it none is sent", async () => {
    const source = renamed(stripe);
    const vendor = new VendorMock().on(`${API}/refunds?limit=100`, { body: stripeList("/v1/refunds", [], false) });
    vendor.install();
    await run(pollEnv({ STRIPE_API_KEY: KEY, STRIPE_API_VERSION: "2024-06-20" }), source, "refunds", { kind: "full_refresh" });
    await run(pollEnv({ STRIPE_API_KEY: KEY }), renamed(stripe), "refunds", { kind: "full_refresh" });
    expect(vendor.requests.map((r) => r.headers.get("stripe-version"))).toEqual(["2024-06-20", null]);
  });

  it("given subscriptions, when backfilled, then canceled ones are asked for too (status=all)", async () => {
    const source = renamed(stripe);
    const vendor = new VendorMock().on(`${API}/subscriptions?limit=100&status=all`, { body: stripeList("/v1/subscriptions", [], false) });
    vendor.install();
    const out = await run(pollEnv({ STRIPE_API_KEY: KEY }), source, "subscriptions", { kind: "full_refresh" });
    expect(vendor.unexpected).toEqual([]);
    expect(out.status).toBe("succeeded");
  });

  it("given a test-mode key, then requests are spaced for 25 ops/s at the configured fraction; a live key gets 100 ops/s", async () => {
    const clock = fakeClock();
    const stream = stripe.streams?.[0];
    if (!stream) throw new Error("no stream");
    const spacing = async (key: string) => {
      const gate = gateFor(
        pollEnv({ STRIPE_API_KEY: key, RATE_FRACTION: "0.5" }),
        { ...stripe, name: `stripe_gate_${key.slice(0, 7)}` },
        stream,
        clock,
      );
      await gate.reserve();
      return gate.reserve();
    };
    expect(await spacing("sk_test_x")).toBeCloseTo(1000 / 12.5, 3);
    expect(await spacing("sk_live_x")).toBeCloseTo(1000 / 50, 3);
  });
});
