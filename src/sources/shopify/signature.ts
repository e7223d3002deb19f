import { bodyHmacScheme } from "../webhook-helpers";

/**
 * `X-Shopify-Hmac-Sha256`: base64(HMAC-SHA256(app client secret, raw body)). Shopify signs no
 * timestamp; retries (8 over 4 hours) and replays are absorbed by dedupe on the event id.
 */
export const shopifyScheme = bodyHmacScheme({ header: "x-shopify-hmac-sha256", prefix: "", hash: "SHA-256", encoding: "base64" });
