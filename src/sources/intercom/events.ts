import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, propertySpanOrNull, streamName } from "../webhook-helpers";

interface IntercomNotification {
  type?: unknown;
  id?: unknown;
  topic?: unknown;
}

/**
 * A `notification_event`: `id` (notif_…) is the same on every retry and is the dedupe key; the
 * topic names the stream (`conversation.user.created` → `conversations`) and `data.item.id` the key.
 * The version is the notification id, followed by `@<data.item.updated_at>` when the item carries
 * one (Unix seconds): the state of the object the notification reports, which is what the
 * high-water mark compares with a search listing's `updated_at` (see reconcile.ts). `*.deleted`
 * items carry only their ids: the version is then the notification id alone.
 */
export function intercomWebhookRecords(input: WebhookInput): WebhookRecord[] {
  const n = input.json as IntercomNotification | null;
  if (typeof n !== "object" || n === null || n.type !== "notification_event" || typeof n.id !== "string" || typeof n.topic !== "string") {
    throw new Error("not an Intercom notification_event");
  }
  const data = propertySpanOrNull(input.text, "data");
  const item = data ? propertySpanOrNull(input.text, "item", data[0]) : null;
  const isObject = item !== null && input.text[item[0]] === "{";
  const key = isObject ? fieldText(input.text, "id", item) : null;
  const updatedAt = isObject ? fieldText(input.text, "updated_at", item) : null;
  return [
    {
      stream: streamName(n.topic.split(".")[0] ?? n.topic),
      key: key ?? n.id,
      version: updatedAt !== null && /^\d{1,12}$/.test(updatedAt) ? `${n.id}@${updatedAt}` : n.id,
      op: /\.deleted$/.test(n.topic) ? "delete" : "event",
      eventId: n.id,
    },
  ];
}
