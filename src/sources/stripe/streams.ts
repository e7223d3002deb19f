import type { PaginationSpec, PollStream, RecordOp } from "../../pollers/types";
import { stripeEventRecord } from "./events";

/** Stripe lists: newest first, `limit` ≤ 100, `starting_after` = the last id of the page while `has_more`. */
const list: PaginationSpec = { style: "after_id", param: "starting_after", hasMorePath: "has_more", limitParam: "limit" };

/**
 * `GET /v1/events?created[gte]=<cursor − 5 min>`, read newest first to the end of the list each run
 * (Stripe keeps events 30 days). Walking forward with `ending_before=<last event id>` would need
 * that event to still exist (30 days) and a first run must walk backwards anyway; a `created`
 * cursor with an overlap has neither trap, and the event id as version makes repeats the same
 * record. The cursor moves when a run completes (pages are not in ascending order).
 *
 * Each event is filed like its webhook: under the stream of the object it is about, keyed by the
 * object id, versioned by the event id, `*.deleted` as a delete — so a polled event and the same
 * event delivered by webhook (or found by reconciliation) have one `_dock.id`.
 */
export const stripeEvents: PollStream = {
  name: "events",
  path: "/v1/events",
  records: "data",
  primaryKey: "id",
  cursor: { kind: "updated_at", field: "created", param: "created[gte]", format: "unix", lookbackSeconds: 300 },
  pagination: list,
  pageSize: 100,
  intervalMinutes: 5,
  // An event id names one immutable event: no digest, so poll, webhook and reconciliation ids agree.
  uniqueVersion: true,
  describe: (record) => {
    const r = stripeEventRecord(record.value());
    return { stream: r.stream, key: r.key, version: r.version, op: r.op as RecordOp };
  },
};

/** The objects a first load reads in full (a snapshot each), before the events stream keeps them current. */
export const STRIPE_BACKFILL_OBJECTS = ["customers", "charges", "invoices", "subscriptions", "payment_intents", "refunds"] as const;

/**
 * `GET /v1/<objects>` in full, as a snapshot: run on demand (admin "run now" / backfill), never on a
 * schedule (intervalMinutes 0). Subscriptions need `status=all` (the default hides canceled ones).
 * Version: the object's `updated` time where Stripe has one, with a digest of its bytes (`updated`
 * has whole seconds), otherwise the digest alone (most Stripe objects carry only `created`).
 */
export function stripeObjectStream(name: (typeof STRIPE_BACKFILL_OBJECTS)[number]): PollStream {
  return {
    name,
    path: `/v1/${name}`,
    params: name === "subscriptions" ? { status: "all" } : undefined,
    records: "data",
    primaryKey: "id",
    pagination: list,
    pageSize: 100,
    intervalMinutes: 0,
    describe: (record) => ({ version: record.field("updated") }),
  };
}

export const stripeStreams: PollStream[] = [stripeEvents, ...STRIPE_BACKFILL_OBJECTS.map(stripeObjectStream)];
