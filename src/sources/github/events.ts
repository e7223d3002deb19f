import type { WebhookInput, WebhookRecord } from "../../webhooks/types";
import { singleHeader, streamName } from "../webhook-helpers";

/**
 * One record per delivery, filed under the event name (`X-GitHub-Event: pull_request` → stream
 * `pull_request`). `X-GitHub-Delivery` is a GUID kept by redeliveries, so it is the dedupe key.
 */
export function githubWebhookRecords(input: WebhookInput): WebhookRecord[] {
  const delivery = singleHeader(input.headers, "x-github-delivery", 128);
  if (!delivery) throw new Error("no X-GitHub-Delivery header");
  const event = singleHeader(input.headers, "x-github-event", 128) ?? "events";
  const action = (input.json as { action?: unknown } | null)?.action;
  return [
    {
      stream: streamName(event, false),
      key: delivery,
      version: delivery,
      op: action === "deleted" ? "delete" : "event",
      eventId: delivery,
    },
  ];
}
