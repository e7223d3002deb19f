import { defineSource } from "../define-source";
import { zendeskWebhookRecords } from "./events";
import { zendeskScheme } from "./signature";
import { zendeskReconcile } from "./reconcile";

/** Zendesk webhooks. Secret: the webhook's signing secret (Admin Center → Webhooks → Reveal secret). */
export const zendesk = defineSource({
  name: "zendesk",
  title: "Zendesk",
  webhook: { scheme: zendeskScheme, toleranceSeconds: 300, records: zendeskWebhookRecords },
  reconcile: zendeskReconcile,
});
