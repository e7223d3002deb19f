import { defineSource } from "../define-source";
import { klaviyoWebhookRecords } from "./events";
import { klaviyoScheme } from "./signature";
import { klaviyoReconcile } from "./reconcile";
import { klaviyoAuth, klaviyoBaseUrl } from "./auth";
import { klaviyoStreams } from "./streams";

/** Klaviyo system webhooks. Secret: the secret key given when the webhook was created (≥ 16 characters). */
export const klaviyo = defineSource({
  name: "klaviyo",
  title: "Klaviyo",
  webhook: { scheme: klaviyoScheme, toleranceSeconds: 300, records: klaviyoWebhookRecords },
  reconcile: klaviyoReconcile,
  baseUrl: klaviyoBaseUrl,
  auth: klaviyoAuth,
  // 10 requests/s, run at RATE_FRACTION (half by default) for headroom; 429s retried with jitter.
  rateLimit: { requests: 10, perSeconds: 1 },
  streams: klaviyoStreams,
});
