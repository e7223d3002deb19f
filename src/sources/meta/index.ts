import { defineSource } from "../define-source";
import { metaWebhookRecords } from "./events";
import { metaHandshake, VERIFY_TOKEN } from "./handshake";
import { metaScheme } from "./signature";
import { metaReconcile } from "./reconcile";

/** Meta (Facebook, Instagram, WhatsApp) Graph webhooks. Secret: the app secret; META_VERIFY_TOKEN for the GET check. */
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
});
