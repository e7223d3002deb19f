import { defineSource } from "../define-source";
import { salesforceWebhookRecords } from "./events";
import { ORG_ID_SETTING, salesforceScheme } from "./signature";
import { ACK } from "./soap";
import { salesforceReconcile } from "./reconcile";
import { salesforceAuth, salesforceBaseUrl } from "./auth";
import { salesforceQuota, salesforceThrottle } from "./limits";
import { salesforceStreams } from "./streams";

/** Salesforce outbound messages (SOAP). Secrets: SALESFORCE_WEBHOOK_SECRET (URL token) and SALESFORCE_ORG_ID. */
export const salesforce = defineSource({
  name: "salesforce",
  title: "Salesforce outbound messages",
  webhook: {
    scheme: salesforceScheme,
    config: [ORG_ID_SETTING],
    body: "text",
    records: salesforceWebhookRecords,
    // The Ack goes out only after every notification is on the INGEST queue (the route answers last).
    respond: () => new Response(ACK, { status: 200, headers: { "content-type": "text/xml; charset=utf-8" } }),
  },
  reconcile: salesforceReconcile,
  baseUrl: salesforceBaseUrl,
  auth: salesforceAuth,
  // Salesforce publishes a daily allowance, not a per-second cap: 10 requests/s is our own ceiling.
  rateLimit: { requests: 10, perSeconds: 1 },
  quota: salesforceQuota,
  throttle: salesforceThrottle,
  streams: salesforceStreams(),
});
