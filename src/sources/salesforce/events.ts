import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { streamName } from "../webhook-helpers";
import { parseOutboundMessage } from "./soap";

/**
 * One record per `Notification`: stream from the sObject type (`Account` → `account`), key the
 * record's Id, version and dedupe key the notification Id (stable across Salesforce's retries).
 *
 * The payload is the `<sObject>` element kept verbatim as a string (`raw`), not converted to JSON:
 * XML has no JSON form without choices (types are all text, repeated elements, nil markers,
 * namespaces) that would rewrite what Salesforce sent, and the raw zone keeps records as they came.
 * The envelope around it (OrganizationId, ActionId, SessionId, URLs) is not stored: SessionId can
 * hold a live session when "Send Session ID" is ticked.
 */
export function salesforceWebhookRecords(input: WebhookInput): WebhookRecord[] {
  const message = parseOutboundMessage(input.text);
  if (!message) throw new Error("not a Salesforce outbound message");
  return message.notifications.map((n) => ({
    stream: streamName(n.sObjectType, false),
    key: n.sObjectId ?? n.id,
    version: n.id,
    op: "upsert",
    eventId: n.id,
    payload: { raw: n.sObjectXml },
  }));
}
