import { arrayElementSpans, type Span } from "../../envelope/json-spans";
import { sha256Hex } from "../../lib/crypto";
import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText } from "../webhook-helpers";

/**
 * Amplitude's event-streaming webhook posts one event (or an array, with a batching template).
 * An event's identity is its `insert_id` (`$insert_id` in some templates, `uuid` on exported
 * events); without one, the hash of its exact bytes. Everything lands in the stream `events`.
 */
export async function amplitudeWebhookRecords(input: WebhookInput): Promise<WebhookRecord[]> {
  const spans: (Span | undefined)[] = Array.isArray(input.json) ? arrayElementSpans(input.text) : [undefined];
  const records: WebhookRecord[] = [];
  for (const [i, span] of spans.entries()) {
    const start = span?.[0] ?? input.text.search(/\S/);
    if (input.text[start] !== "{") throw new Error(`event ${i} is not an object`);
    const id =
      fieldText(input.text, "insert_id", span) ??
      fieldText(input.text, "$insert_id", span) ??
      fieldText(input.text, "uuid", span) ??
      (await sha256Hex(span ? input.text.slice(span[0], span[1]) : input.text)).slice(0, 32);
    records.push({ stream: "events", key: id, version: id, op: "event", eventId: id, ...(span ? { span } : {}) });
  }
  return records;
}
