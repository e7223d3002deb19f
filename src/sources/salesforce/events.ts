import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { streamName } from "../webhook-helpers";
import { stamp } from "./records";
import { type OutboundNotification, parseOutboundMessage } from "./soap";

/**
 * One record per `Notification`: stream from the sObject type (`Account` → `account`, the poll
 * stream of that object), key the record's Id, dedupe key the notification Id (stable across
 * Salesforce's retries). The version is `<notification Id>@<SystemModstamp>` when the outbound
 * message selects SystemModstamp (ISO-8601 UTC, the instant the poll's version names), so the
 * object's high-water mark compares it with a listed SystemModstamp (reconcile.ts); without that
 * field it is the notification Id alone, which holds no version.
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
    version: notificationVersion(n),
    op: "upsert",
    eventId: n.id,
    payload: { raw: n.sObjectXml },
  }));
}

function notificationVersion(n: OutboundNotification): string {
  const at = stamp(n.systemModstamp ?? undefined);
  return at ? `${n.id}@${at}` : n.id;
}
