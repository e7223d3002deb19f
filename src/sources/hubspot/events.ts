import { arrayElementSpans } from "../../envelope/json-spans";
import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { fieldText, streamName } from "../webhook-helpers";

/**
 * HubSpot posts a JSON array of up to 100 events; each becomes its own record, its bytes spliced
 * from the body. HubSpot documents `eventId` as "not guaranteed to be unique", so an event is
 * identified by portalId + subscriptionId + eventId + occurredAt (all stable across retries;
 * `attemptNumber` is not, and is left out). Ids are read as text: objectIds exceed 2^53 soon.
 * `contact.propertyChange` → stream `contacts`, key the objectId; `*.deletion` is a delete.
 */
export function hubspotWebhookRecords(input: WebhookInput): WebhookRecord[] {
  if (!Array.isArray(input.json)) throw new Error("HubSpot sends a JSON array of events");
  return arrayElementSpans(input.text).map((span, i) => {
    if (input.text[span[0]] !== "{") throw new Error(`event ${i} is not an object`);
    const field = (name: string) => fieldText(input.text, name, span);
    const eventId = field("eventId");
    const type = field("subscriptionType");
    if (!eventId || !type) throw new Error(`event ${i} has no eventId or subscriptionType`);
    const id = [field("portalId") ?? "", field("subscriptionId") ?? "", eventId, field("occurredAt") ?? ""].join(":");
    return {
      stream: streamName(type.split(".")[0] ?? type),
      key: field("objectId") ?? id,
      version: id,
      op: /\.deletion$/.test(type) ? "delete" : "event",
      eventId: id,
      span,
    };
  });
}
