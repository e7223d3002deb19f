import { defineSource } from "../define-source";
import { stripeWebhookRecords } from "./events";
import { stripeScheme } from "./signature";
import { stripeReconcile } from "./reconcile";

export const stripe = defineSource({
  name: "stripe",
  title: "Stripe",
  webhook: {
    scheme: stripeScheme,
    toleranceSeconds: 300,
    records: stripeWebhookRecords,
  },
  reconcile: stripeReconcile,
});
