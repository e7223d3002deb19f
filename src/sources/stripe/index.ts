import { defineSource } from "../define-source";
import { stripeWebhookRecords } from "./events";
import { stripeScheme } from "./signature";
import { stripeReconcile } from "./reconcile";
import { stripeAuth, stripeBaseUrl, stripeRateLimit } from "./auth";
import { stripeStreams } from "./streams";

export const stripe = defineSource({
  name: "stripe",
  title: "Stripe",
  webhook: {
    scheme: stripeScheme,
    toleranceSeconds: 300,
    records: stripeWebhookRecords,
  },
  reconcile: stripeReconcile,
  baseUrl: stripeBaseUrl,
  auth: stripeAuth,
  rateLimit: stripeRateLimit,
  streams: stripeStreams,
});
