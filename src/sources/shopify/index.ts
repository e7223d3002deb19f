import { defineSource } from "../define-source";
import { shopifyWebhookRecords } from "./events";
import { shopifyScheme } from "./signature";
import { shopifyReconcile } from "./reconcile";

/** Shopify app webhooks. Secret: the app's client secret (API secret key). */
export const shopify = defineSource({
  name: "shopify",
  title: "Shopify",
  webhook: { scheme: shopifyScheme, records: shopifyWebhookRecords },
  reconcile: shopifyReconcile,
});
