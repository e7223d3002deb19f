import { arrayElementSpans, type Span } from "../../envelope/json-spans";
import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, streamName } from "../webhook-helpers";

const STREAMS: Record<string, string> = {
  track: "tracks",
  identify: "identifies",
  page: "pages",
  screen: "screens",
  group: "groups",
  alias: "aliases",
};

/**
 * A Segment message (one per request, or an array when the Actions destination batches). Every
 * message carries `messageId`, a unique id Segment keeps through its retries (Segment Spec, common
 * fields) — the dedupe key. The stream is the call type (`track` → `tracks`), the key the messageId.
 */
export function segmentWebhookRecords(input: WebhookInput): WebhookRecord[] {
  const spans: (Span | undefined)[] = Array.isArray(input.json) ? arrayElementSpans(input.text) : [undefined];
  return spans.map((span, i) => {
    if (input.text[span?.[0] ?? input.text.search(/\S/)] !== "{") throw new Error(`message ${i} is not an object`);
    const messageId = fieldText(input.text, "messageId", span);
    if (!messageId) throw new Error(`message ${i} has no messageId`);
    const type = fieldText(input.text, "type", span) ?? "";
    return {
      stream: STREAMS[type] ?? streamName(type || "events"),
      key: messageId,
      version: messageId,
      op: "event",
      eventId: messageId,
      ...(span ? { span } : {}),
    };
  });
}
