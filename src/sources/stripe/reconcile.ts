import { propertyArraySpans } from "../../envelope/json-spans";
import { bearerFromEnv } from "../../reconcile/auth";
import type { ListedEvent, ReconcileSpec } from "../../reconcile/types";
import { stripeEventRecord } from "./events";

/**
 * The event types the webhook endpoint is subscribed to (comma-separated, at most 20, as Stripe's
 * `types[]` allows): without it every event of the account is listed, and those the endpoint
 * never receives would be "recovered" each night.
 */
const TYPES = "STRIPE_RECONCILE_EVENT_TYPES";

function eventTypes(value: unknown): string[] {
  if (typeof value !== "string" || value.trim() === "") return [];
  const types = value
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (types.length > 20 || types.some((t) => !/^[a-z0-9_.*]+$/.test(t))) {
    throw new Error(`${TYPES} must list at most 20 event types such as charge.succeeded`);
  }
  return types;
}

/** `types[]` repeats, which a query object cannot hold: it goes in the path's query string. */
function typesUrl(types: string[]): string {
  return types.length === 0 ? "/v1/events" : `/v1/events?${types.map((t) => `types[]=${encodeURIComponent(t)}`).join("&")}`;
}

/**
 * `GET /v1/events?created[gte]&created[lte]`, newest first, paged with `starting_after` (the last
 * id of the page) while `has_more`. Stripe keeps events 30 days. A listed event is the same object
 * the webhook delivers, so it goes through the webhook's own extraction: same stream, key, version
 * and event id, hence the same `_dock.id`. API key: STRIPE_API_KEY (a restricted key with read
 * access to events is enough).
 */
export const stripeReconcile: ReconcileSpec = {
  historyDays: 30,
  settleSeconds: 15 * 60,
  overlapSeconds: 60 * 60,
  baseUrl: "https://api.stripe.com",
  auth: bearerFromEnv("STRIPE_API_KEY"),
  // Stripe's live cap; the engine runs at RATE_FRACTION of it, shared with the source's pollers.
  rateLimit: { requests: 100, perSeconds: 1 },
  async list(window, page, ctx) {
    const query: Record<string, string> = {
      "created[gte]": String(Math.floor(Date.parse(window.from) / 1000)),
      "created[lte]": String(Math.floor(Date.parse(window.to) / 1000)),
      limit: "100",
    };
    if (page) query.starting_after = page;
    const types = eventTypes(ctx.env[TYPES]);
    const { text } = await ctx.get({ url: typesUrl(types), query });
    let list: { object?: unknown; has_more?: unknown; data?: unknown };
    try {
      list = JSON.parse(text);
    } catch {
      throw new Error(`GET /v1/events answered with a body that is not JSON: ${text.slice(0, 120)}`);
    }
    if (list?.object !== "list" || !Array.isArray(list.data) || typeof list.has_more !== "boolean") {
      throw new Error(`GET /v1/events answered with something that is not a list of events: ${text.slice(0, 120)}`);
    }
    const events: ListedEvent[] = propertyArraySpans(text, "data").map((span, i) => {
      const event = (list.data as { created?: unknown }[])[i];
      const record = { ...stripeEventRecord(event), span };
      if (typeof event?.created !== "number") throw new Error(`event ${record.eventId} has no created time`);
      return { eventId: record.eventId, occurredAt: new Date(event.created * 1000).toISOString(), recovered: { record, text } };
    });
    const last = events[events.length - 1];
    return { events, next: list.has_more && last ? last.eventId : null };
  },
};
