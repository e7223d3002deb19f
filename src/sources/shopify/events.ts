import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, singleHeader, streamName } from "../webhook-helpers";

/**
 * One record per delivery. `X-Shopify-Topic: orders/create` → stream `orders`, key the object's
 * `id` (read as text: Shopify ids are 64-bit). Dedupe: `X-Shopify-Event-Id` is the same on every
 * retry, but one event can fire several topics (orders/updated and orders/paid), so the event id is
 * event id + topic; `X-Shopify-Webhook-Id` stands in when the event id is absent (older API versions).
 * The version is that id `@` the time the payload stands for — the object's `updated_at` (orders,
 * products, customers send the whole object), else `X-Shopify-Triggered-At` (deletions send only
 * `{id}`) — so the high-water mark can compare a webhook with a listed `updated_at` (reconcile.ts).
 */
export function shopifyWebhookRecords(input: WebhookInput): WebhookRecord[] {
  const topic = singleHeader(input.headers, "x-shopify-topic", 128);
  const eventId = singleHeader(input.headers, "x-shopify-event-id", 128) ?? singleHeader(input.headers, "x-shopify-webhook-id", 128);
  if (!topic || !eventId) throw new Error("no X-Shopify-Topic or X-Shopify-Event-Id header");
  const isObject = typeof input.json === "object" && input.json !== null && !Array.isArray(input.json);
  const key = (isObject ? fieldText(input.text, "id") : null) ?? eventId;
  const eventKey = `${eventId}:${topic}`;
  const at = (isObject ? fieldText(input.text, "updated_at") : null) ?? singleHeader(input.headers, "x-shopify-triggered-at", 64);
  const version = at && Number.isFinite(Date.parse(at)) ? `${eventKey}@${at}` : eventKey;
  return [
    {
      stream: streamName(topic.split("/")[0] ?? topic, false),
      key,
      version,
      op: /\/delete$/.test(topic) ? "delete" : "event",
      eventId: eventKey,
    },
  ];
}
