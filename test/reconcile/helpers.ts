import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import type { RecordBundle } from "../../src/envelope/bundle";
import { processIngestBatch } from "../../src/queue-consumers/ingest-consumer";
import type { ReconcileEnv } from "../../src/reconcile/run-reconcile";
import { defineSource, type SourceDefinition } from "../../src/sources/define-source";
import { stripe } from "../../src/sources/stripe";
import { stripeWebhookRecords } from "../../src/sources/stripe/events";
import { recordsToEnvelopes } from "../../src/webhooks/to-envelopes";
import { aStripeEvent } from "../helpers/stripe";
import { seeded } from "../../src/lib/seeded";

export { seeded };

export type StripeEvent = ReturnType<ReturnType<typeof aStripeEvent>["build"]>;

const TYPES: [string, string, string][] = [
  ["charge.succeeded", "charge", "ch"],
  ["customer.updated", "customer", "cus"],
  ["invoice.paid", "invoice", "in"],
  ["customer.deleted", "customer", "cus"],
];

/** `count` Stripe events (documented Event shape) created at the given unix seconds, ids tagged for this test. */
export function stripeEvents(tag: string, count: number, createdAt: (i: number) => number, rng = seeded(7)): StripeEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const [type, object, prefix] = TYPES[Math.floor(rng() * TYPES.length)] as [string, string, string];
    const event = aStripeEvent()
      .withId(`evt_${tag}_${String(i).padStart(5, "0")}`)
      .withType(type)
      .withObject({ id: `${prefix}_${tag}_${i % 400}`, object, amount: 1000 + i, big: "12345678901234567890" })
      .build();
    event.created = createdAt(i);
    return event;
  });
}

/** A Stripe source under another name: same webhook and listing, its own watermark, ledger and raw prefix. */
export function stripeNamed(name: string, over: Partial<SourceDefinition> = {}): SourceDefinition {
  return defineSource({ ...stripe, name, ...over });
}

export const STRIPE_KEY = "sk_test_reconcile_51Hx";

/** The Worker's env with the listing's API key (and anything else a test sets). */
export function reconcileEnv(over: Record<string, unknown> = {}): ReconcileEnv {
  return { ...env, STRIPE_API_KEY: STRIPE_KEY, ...over } as unknown as ReconcileEnv;
}

/**
 * Stripe's `GET /v1/events` as documented: newest first, `created[gte]`/`created[lte]` filters,
 * `limit` ≤ 100, `starting_after` paging, `{object:"list", data, has_more, url}`. Requests are
 * matched strictly: anything else is answered 400 and noted in `violations`.
 * `failOnCall` answers that call (1-based) with a 500 api_error, as a vendor failing midway.
 */
export function stripeEventsApi(events: readonly StripeEvent[], opts: { failOnCall?: number } = {}) {
  const sorted = [...events].sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
  const api = {
    calls: [] as URL[],
    violations: [] as string[],
    failOnCall: opts.failOnCall ?? 0,
    async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(input instanceof Request ? input.headers : init?.headers);
      api.calls.push(url);
      const refuse = (why: string) => {
        api.violations.push(why);
        return Response.json({ error: { type: "invalid_request_error", message: why } }, { status: 400 });
      };
      const method = (input instanceof Request ? input.method : init?.method) ?? "GET";
      if (method !== "GET") return refuse(`method ${method}`);
      if (url.origin !== "https://api.stripe.com" || url.pathname !== "/v1/events") return refuse(`unexpected URL ${url}`);
      if (headers.get("authorization") !== `Bearer ${STRIPE_KEY}`) return refuse("missing or wrong API key");
      const allowed = new Set(["created[gte]", "created[lte]", "limit", "starting_after", "types[]"]);
      for (const k of url.searchParams.keys()) if (!allowed.has(k)) return refuse(`unexpected parameter ${k}`);
      const gte = Number(url.searchParams.get("created[gte]"));
      const lte = Number(url.searchParams.get("created[lte]"));
      const limit = Number(url.searchParams.get("limit") ?? "10");
      if (
        !Number.isInteger(gte) ||
        !Number.isInteger(lte) ||
        !url.searchParams.has("created[gte]") ||
        !url.searchParams.has("created[lte]")
      ) {
        return refuse("created[gte] and created[lte] must be unix seconds");
      }
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) return refuse(`limit ${limit}`);
      if (api.calls.length === api.failOnCall) {
        return Response.json({ error: { type: "api_error", message: "An unknown error occurred" } }, { status: 500 });
      }
      const types = url.searchParams.getAll("types[]");
      if (types.length > 20) return refuse("more than 20 types");
      const matching = sorted.filter((e) => e.created >= gte && e.created <= lte && (types.length === 0 || types.includes(e.type)));
      const after = url.searchParams.get("starting_after");
      let start = 0;
      if (after !== null) {
        const at = matching.findIndex((e) => e.id === after);
        if (at < 0) return refuse(`starting_after ${after} is not in the list`);
        start = at + 1;
      }
      const data = matching.slice(start, start + limit);
      const body = { object: "list", data, has_more: start + limit < matching.length, url: "/v1/events" };
      return new Response(JSON.stringify(body, null, 2), { status: 200, headers: { "content-type": "application/json" } });
    },
  };
  return api;
}

/** Sends every globalThis.fetch to the fake vendor for this test. */
export function installVendor(handle: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>) {
  return vi.spyOn(globalThis, "fetch").mockImplementation(handle as typeof fetch);
}

/** The webhook body Stripe posts for an event. */
export const webhookBody = (e: StripeEvent) => JSON.stringify(e, null, 2);

/** INGEST bundles exactly as the webhook route builds them for these events. */
export async function webhookBundles(
  source: string,
  events: readonly StripeEvent[],
  receivedAt = new Date().toISOString(),
): Promise<RecordBundle[]> {
  const bundles: RecordBundle[] = [];
  for (const e of events) {
    const text = webhookBody(e);
    const records = stripeWebhookRecords({ text, json: JSON.parse(text), headers: new Headers(), url: "" });
    const runId = `wh-${e.id}`;
    for (const [stream, list] of await recordsToEnvelopes({ source, pattern: "webhook", receivedAt, runId }, records, text)) {
      bundles.push({ kind: "bundle", v: 1, source, stream, pattern: "webhook", received_at: receivedAt, run_id: runId, records: list });
    }
  }
  return bundles;
}

let batchCounter = 0;
/** Runs the real raw writer over these INGEST messages, 100 per batch as the queue would deliver them. */
export async function writeRaw(bodies: readonly unknown[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 100) {
    const batch = createMessageBatch(
      "loading-dock-ingest",
      bodies.slice(i, i + 100).map((body) => ({ id: `rc${++batchCounter}`, timestamp: new Date(), attempts: 1, body })),
    );
    await processIngestBatch(env, batch);
  }
}

/** A queue producer that keeps what it is given, so the test delivers it to the raw writer itself. */
export function recordingQueue() {
  const q = {
    messages: [] as unknown[],
    async send(body: unknown) {
      q.messages.push(body);
    },
    async sendBatch(batch: { body: unknown }[]) {
      for (const m of batch) q.messages.push(m.body);
    },
    /** Everything sent so far, emptied. */
    take: () => q.messages.splice(0),
  };
  return q;
}

export async function ledgerRows(source: string) {
  const { results } = await env.DB.prepare("SELECT * FROM reconcile_ledger WHERE source = ?1 ORDER BY day").bind(source).all<{
    day: string;
    expected: number | null;
    received: number | null;
    recovered: number | null;
    missing: number | null;
    window_from: string | null;
    window_to: string | null;
    status: string;
    detail: string | null;
    run_id: string | null;
  }>();
  return results;
}

export async function sourceState(source: string) {
  return env.DB.prepare("SELECT * FROM reconcile_state WHERE source = ?1").bind(source).first<{
    reconciled_to: string | null;
    active_run_id: string | null;
    last_status: string | null;
    last_error: string | null;
    unrecoverable_from: string | null;
    unrecoverable_to: string | null;
  }>();
}

/** Counts per UTC day of the vendor's event time. */
export function perDay(events: readonly StripeEvent[], pick: (e: StripeEvent) => boolean = () => true): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) {
    if (!pick(e)) continue;
    const day = new Date(e.created * 1000).toISOString().slice(0, 10);
    out.set(day, (out.get(day) ?? 0) + 1);
  }
  return out;
}
