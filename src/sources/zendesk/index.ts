import { defineSource } from "../define-source";
import { zendeskWebhookRecords } from "./events";
import { zendeskScheme } from "./signature";
import { zendeskReconcile } from "./reconcile";
import { zendeskAuth, zendeskBaseUrl } from "./auth";
import { zendeskStreams } from "./streams";

/** Zendesk webhooks. Secret: the webhook's signing secret (Admin Center → Webhooks → Reveal secret). */
export const zendesk = defineSource({
  name: "zendesk",
  title: "Zendesk",
  webhook: { scheme: zendeskScheme, toleranceSeconds: 300, records: zendeskWebhookRecords },
  reconcile: zendeskReconcile,
  baseUrl: zendeskBaseUrl,
  auth: zendeskAuth,
  // The incremental export endpoints allow 10 requests a minute per account, shared by all three streams.
  rateLimit: { requests: 10, perSeconds: 60 },
  streams: zendeskStreams,
});
