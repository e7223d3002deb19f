import { defineSource } from "../define-source";
import { klaviyoWebhookRecords } from "./events";
import { klaviyoScheme } from "./signature";
import { klaviyoReconcile } from "./reconcile";

/** Klaviyo system webhooks. Secret: the secret key given when the webhook was created (≥ 16 characters). */
export const klaviyo = defineSource({
  name: "klaviyo",
  title: "Klaviyo",
  webhook: { scheme: klaviyoScheme, toleranceSeconds: 300, records: klaviyoWebhookRecords },
  reconcile: klaviyoReconcile,
});
