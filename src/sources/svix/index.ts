import { defineSource } from "../define-source";
import { svixWebhookRecords } from "./events";
import { svixScheme } from "./signature";
import { svixReconcile } from "./reconcile";

/** Svix, and any sender of Standard Webhooks (standardwebhooks.com). Secret: the endpoint's `whsec_…`. */
export const svix = defineSource({
  name: "svix",
  title: "Svix / Standard Webhooks",
  webhook: {
    scheme: svixScheme,
    toleranceSeconds: 300,
    records: svixWebhookRecords,
  },
  reconcile: svixReconcile,
});
