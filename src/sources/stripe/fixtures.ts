import { arrayText, JsonBuilder } from "../fixture-builder";

/** Test fixtures shaped like Stripe's API reference (events, customers, list objects). */
let counter = 0;
const T0 = Date.parse("2026-11-25T07:00:00Z") / 1000;

export function aStripeCustomer(id = `cus_${++counter}`) {
  return new JsonBuilder({ id, object: "customer", created: T0 - 86_400, email: `${id}@example.test`, livemode: false, metadata: {} });
}

export function aStripeCharge(id = `ch_${++counter}`) {
  return new JsonBuilder({ id, object: "charge", amount: 1200, currency: "eur", created: T0 - 3600, status: "succeeded", livemode: false });
}

class StripeEventBuilder extends JsonBuilder<{
  id: string;
  object: "event";
  api_version: string;
  created: number;
  type: string;
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  data: { object: Record<string, unknown> };
}> {
  withType(type: string): this {
    return this.with({ type });
  }
  createdAt(unixSeconds: number): this {
    return this.with({ created: unixSeconds });
  }
  /** The object the event is about, spliced as text (so a 64-bit integer in it stays exact). */
  about(object: { text(): string }): this {
    return this.withRaw("data", `{"object":${object.text()}}`);
  }
}

export function aStripeEvent(id = `evt_${++counter}`) {
  return new StripeEventBuilder({
    id,
    object: "event",
    api_version: "2024-06-20",
    created: T0,
    type: "customer.updated",
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: JSON.parse(aStripeCustomer().text()) as Record<string, unknown> },
  });
}

/** A list object: `{"object":"list","url":…,"has_more":…,"data":[…]}`. */
export function stripeList(url: string, items: (string | { text(): string })[], hasMore: boolean): string {
  return `{"object":"list","url":"${url}","has_more":${hasMore},"data":${arrayText(items)}}`;
}

/** Stripe's error body (`{"error":{…}}`). */
export function stripeError(type: string, message: string, code?: string): string {
  return JSON.stringify({ error: { type, message, ...(code ? { code } : {}) } });
}

export const STRIPE_T0 = T0;
