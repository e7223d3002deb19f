import Stripe from "stripe";

const stripe = new Stripe("sk_test_unused", { httpClient: Stripe.createFetchHttpClient() });

/** A Stripe-Signature header made by Stripe's own SDK. */
export function stripeSignature(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): Promise<string> {
  return stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp });
}

let n = 0;
/** A Stripe event fixture, shaped like Stripe's documented Event object. */
export function aStripeEvent() {
  const id = `evt_${Date.now()}_${++n}`;
  const event = {
    id,
    object: "event",
    api_version: "2024-06-20",
    created: 1_764_000_000,
    type: "charge.succeeded",
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: { id: `ch_${n}`, object: "charge", amount: 2000, currency: "usd" } as Record<string, unknown> },
  };
  const builder = {
    withId(value: string) {
      event.id = value;
      return builder;
    },
    withType(type: string) {
      event.type = type;
      return builder;
    },
    withObject(object: Record<string, unknown>) {
      event.data.object = object;
      return builder;
    },
    build: () => structuredClone(event),
    /** The body as Stripe sends it: pretty-printed JSON. */
    json: () => JSON.stringify(event, null, 2),
  };
  return builder;
}
