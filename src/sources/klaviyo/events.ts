import { propertyArraySpans } from "../../envelope/json-spans";
import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, propertySpanOrNull, singleHeader } from "../webhook-helpers";

/**
 * `{data: [{external_id, topic, payload}, …], meta: {klaviyo_account_id, klaviyo_webhook_id, timestamp}}`:
 * one record per item of `data`, spliced verbatim; `external_id` (the event's id) is the key and
 * the dedupe key. Klaviyo says to refuse a body whose `meta.klaviyo_webhook_id` differs from the
 * `Klaviyo-Webhook-Id` header: such a body is kept whole under `_unparsed` with the reason.
 */
export function klaviyoWebhookRecords(input: WebhookInput): WebhookRecord[] {
  const meta = propertySpanOrNull(input.text, "meta");
  const bodyWebhookId = meta && input.text[meta[0]] === "{" ? fieldText(input.text, "klaviyo_webhook_id", meta) : null;
  const headerWebhookId = singleHeader(input.headers, "klaviyo-webhook-id", 128);
  if (bodyWebhookId !== null && headerWebhookId !== null && bodyWebhookId !== headerWebhookId) {
    throw new Error("meta.klaviyo_webhook_id differs from the Klaviyo-Webhook-Id header");
  }
  return propertyArraySpans(input.text, "data").map((span, i) => {
    if (input.text[span[0]] !== "{") throw new Error(`data[${i}] is not an object`);
    const id = fieldText(input.text, "external_id", span);
    if (!id) throw new Error(`data[${i}] has no external_id`);
    return { stream: "events", key: id, version: id, op: "event", eventId: id, span };
  });
}
