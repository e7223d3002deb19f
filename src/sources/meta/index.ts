import { defineSource } from "../define-source";
import { metaWebhookRecords } from "./events";
import { metaHandshake, VERIFY_TOKEN } from "./handshake";
import { metaScheme } from "./signature";
import { metaReconcile } from "./reconcile";
import { metaAuth, metaGraphRoot } from "./graph";
import { metaLeadsStream } from "./leads";

/**
 * Meta (Facebook, Instagram, WhatsApp) Graph webhooks. Secret: the app secret; META_VERIFY_TOKEN for the GET check.
 * Leads of the forms in META_LEAD_FORM_IDS are also listed (META_ACCESS_TOKEN, a Page token with
 * leads_retrieval): polled hourly and reconciled against the leadgen webhooks.
 */
export const meta = defineSource({
  name: "meta",
  title: "Meta (Graph API webhooks)",
  webhook: {
    scheme: metaScheme,
    config: [VERIFY_TOKEN],
    records: metaWebhookRecords,
    handshake: metaHandshake,
  },
  reconcile: metaReconcile,
  baseUrl: metaGraphRoot,
  auth: metaAuth,
  // Lead reads are capped per Page by a usage score (200 × 24 × leads of the last 90 days a day): a modest spacing.
  rateLimit: { requests: 2, perSeconds: 1 },
  streams: [metaLeadsStream],
});
