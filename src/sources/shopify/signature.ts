import type { HmacScheme } from "../../webhooks/types";
import { prefixedSignature } from "../webhook-helpers";

/**
 * `X-Shopify-Hmac-Sha256`: base64(HMAC-SHA256(app client secret, raw body)). Shopify signs no
 * timestamp; retries (8 over 4 hours) and replays are absorbed by dedupe on the event id.
 */
export const shopifyScheme: HmacScheme = {
  kind: "hmac",
  hash: "SHA-256",
  encoding: "base64",
  parse(req) {
    const signatures = prefixedSignature(req.headers, "x-shopify-hmac-sha256", "");
    return signatures ? { signatures } : null;
  },
  message: (req) => req.body,
};
