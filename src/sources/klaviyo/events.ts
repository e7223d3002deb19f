import { propertyArraySpans } from "../../envelope/json-spans";
import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, propertySpanOrNull, singleHeader } from "../webhook-helpers";

/**
 * `{data: [{external_id, topic, payload}, …], meta: {klaviyo_account_id, klaviyo_webhook_id, timestamp}}`:
 * one record per item of `data`, spliced verbatim; `external_id` (the event's id) is the key and
 * the dedupe key. Klaviyo says to refuse a body whose `meta.klaviyo_webhook_id` differs from the
 * `Klaviyo-Webhook-Id` header: such a body is kept whole under `_unparsed` with the reason.
 * Each item's `payload` has "the same structure as a Get Event API call": the version is the event
 * id at its `payload.attributes.datetime` (`<id>@<datetime>`), what the high-water mark reads to
 * compare it with a listed event (see reconcile.ts); without a datetime, the id alone.
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
    const payload = propertySpanOrNull(input.text, "payload", span[0]);
    const attributes = payload && input.text[payload[0]] === "{" ? propertySpanOrNull(input.text, "attributes", payload[0]) : null;
    const datetime = attributes && input.text[attributes[0]] === "{" ? fieldText(input.text, "datetime", attributes) : null;
    const timed = datetime !== null && /^\d{4}-\d{2}-\d{2}T[^@|]+$/.test(datetime) && Number.isFinite(Date.parse(datetime));
    return { stream: "events", key: id, version: timed ? `${id}@${datetime}` : id, op: "event", eventId: id, span };
  });
}
