import { defineSource } from "../define-source";
import { hubspotWebhookRecords } from "./events";
import { hubspotScheme } from "./signature";
import { hubspotReconcile } from "./reconcile";
import { hubspotAuth, hubspotBaseUrl } from "./auth";
import { hubspotStreams } from "./streams";

/** HubSpot app webhooks (v3 signatures). Secret: the app's client secret. */
export const hubspot = defineSource({
  name: "hubspot",
  title: "HubSpot",
  webhook: { scheme: hubspotScheme, toleranceSeconds: 300, records: hubspotWebhookRecords },
  reconcile: hubspotReconcile,
  baseUrl: hubspotBaseUrl,
  auth: hubspotAuth,
  // The search API's 4 requests/s per token is the binding cap (lists allow 100 per 10 s).
  rateLimit: { requests: 4, perSeconds: 1 },
  streams: hubspotStreams,
});
