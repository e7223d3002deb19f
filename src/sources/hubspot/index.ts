import { defineSource } from "../define-source";
import { hubspotWebhookRecords } from "./events";
import { hubspotScheme } from "./signature";
import { hubspotReconcile } from "./reconcile";

/** HubSpot app webhooks (v3 signatures). Secret: the app's client secret. */
export const hubspot = defineSource({
  name: "hubspot",
  title: "HubSpot",
  webhook: { scheme: hubspotScheme, toleranceSeconds: 300, records: hubspotWebhookRecords },
  reconcile: hubspotReconcile,
});
