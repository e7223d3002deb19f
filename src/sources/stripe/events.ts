import type { WebhookInput, WebhookRecord } from "../../webhooks/types";

interface StripeEvent {
  id: string;
  type: string;
  data: { object: { id?: string; object?: string } };
}

function isStripeEvent(value: unknown): value is StripeEvent {
  const e = value as StripeEvent;
  return (
    typeof e === "object" &&
    e !== null &&
    typeof e.id === "string" &&
    typeof e.type === "string" &&
    typeof e.data?.object === "object" &&
    e.data.object !== null
  );
}

/** `payment_intent` → `payment_intents`, `checkout.session` → `checkout_sessions`. */
export function streamOfObject(objectType: string): string {
  const snake = objectType.replace(/[^a-z0-9_]/gi, "_").toLowerCase();
  return snake.endsWith("s") ? snake : `${snake}s`;
}

/**
 * One record per Stripe event, filed under the stream of the object it is about. The event id is
 * the version (each event is one state of the object) and the dedupe key; `*.deleted` is a delete.
 */
export function stripeEventRecord(event: unknown): WebhookRecord {
  if (!isStripeEvent(event)) throw new Error("not a Stripe event");
  const object = event.data.object;
  return {
    stream: streamOfObject(object.object ?? event.type.split(".")[0] ?? "event"),
    key: object.id ?? event.id,
    version: event.id,
    op: event.type.endsWith(".deleted") ? "delete" : "event",
    eventId: event.id,
  };
}

export function stripeWebhookRecords(input: WebhookInput): WebhookRecord[] {
  return [stripeEventRecord(input.json)];
}
