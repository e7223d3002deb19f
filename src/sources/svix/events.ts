import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, propertySpanOrNull, streamName } from "../webhook-helpers";

/**
 * One record per delivery. The `webhook-id` is the same on every retry of a message, so it is the
 * version and the dedupe key. Standard Webhooks recommends `{type, timestamp, data}`: the stream
 * follows the type's first part (`invoice.paid` → `invoices`) and the key is `data.id` when given.
 */
export function svixWebhookRecords(input: WebhookInput): WebhookRecord[] {
  const id = input.headers.get("webhook-id");
  if (!id) throw new Error("no webhook-id header");
  const body = input.json as { type?: unknown } | null;
  const type = typeof body === "object" && body !== null && typeof body.type === "string" ? body.type : "";
  const data = typeof body === "object" && body !== null && !Array.isArray(body) ? propertySpanOrNull(input.text, "data") : null;
  const key = data && input.text[data[0]] === "{" ? fieldText(input.text, "id", data) : null;
  return [
    {
      stream: type ? streamName(type.split(".")[0] ?? type) : "events",
      key: key ?? id,
      version: id,
      op: /\.deleted$/.test(type) ? "delete" : "event",
      eventId: id,
    },
  ];
}
