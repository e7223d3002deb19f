import { defineSource } from "../define-source";
import { shopifyWebhookRecords } from "./events";
import { shopifyScheme } from "./signature";
import { shopifyReconcile } from "./reconcile";
import { shopifyAuth, shopifyBaseUrl } from "./auth";
import { shopifyStreams } from "./streams";

/**
 * Shopify app webhooks (secret: the app's client secret) and REST Admin API polls of orders,
 * products and customers by `updated_at_min` (SHOPIFY_SHOP, SHOPIFY_ADMIN_TOKEN).
 */
export const shopify = defineSource({
  name: "shopify",
  title: "Shopify",
  webhook: { scheme: shopifyScheme, records: shopifyWebhookRecords },
  reconcile: shopifyReconcile,
  baseUrl: shopifyBaseUrl,
  auth: shopifyAuth,
  // REST Admin API: a bucket of 40 requests per app and store, leaking 2 a second (standard plans).
  rateLimit: { requests: 2, perSeconds: 1 },
  streams: shopifyStreams,
});
