import { sha256Hex } from "../../lib/crypto";
import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, propertySpanOrNull, singleHeader, streamName } from "../webhook-helpers";

const EVENT_TYPE = "zen:event-type:";

/**
 * Two kinds of Zendesk webhook bodies:
 * - subscribed to Zendesk events: an envelope `{type: "zen:event-type:user.created", id, detail,
 *   event, …}` whose `id` is the event's id → stream from the type (`users`), key `detail.id`,
 *   version `<id>@<time>` (the event's time, so the mark of that object is fed: reconcile.ts);
 * - connected to a trigger or automation: a body the admin wrote. Its dedupe key is the
 *   `X-Zendesk-Webhook-Invocation-Id` header (one invocation, several attempts), else the body's
 *   sha256. The invocation id header is not in Zendesk's verifying page; it is sent by Zendesk and
 *   used for dedupe by integrations found through the search tool — treated as optional here.
 */
export async function zendeskWebhookRecords(input: WebhookInput): Promise<WebhookRecord[]> {
  const body = input.json as { type?: unknown; id?: unknown } | null;
  const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
  if (isObject && typeof body.type === "string" && body.type.startsWith(EVENT_TYPE)) {
    const id = fieldText(input.text, "id");
    if (!id) throw new Error("a Zendesk event without an id");
    const type = body.type.slice(EVENT_TYPE.length);
    const detail = propertySpanOrNull(input.text, "detail");
    const key = detail && input.text[detail[0]] === "{" ? fieldText(input.text, "id", detail) : null;
    // The event's time rides in the version so the object's high-water mark can order it (reconcile.ts).
    const time = fieldText(input.text, "time");
    return [
      {
        stream: streamName(type.split(".")[0] ?? type),
        key: key ?? id,
        version: time && /^\d{4}-\d{2}-\d{2}T/.test(time) ? `${id}@${time}` : id,
        op: /\.deleted$/.test(type) ? "delete" : "event",
        eventId: id,
      },
    ];
  }
  const id = singleHeader(input.headers, "x-zendesk-webhook-invocation-id", 128) ?? (await sha256Hex(input.text)).slice(0, 32);
  return [{ stream: "trigger_events", key: id, version: id, op: "event", eventId: id }];
}
