import { bodyHmacScheme } from "../webhook-helpers";

/**
 * Meta (Graph API) webhooks: `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the raw body
 * keyed by the app secret. The older `X-Hub-Signature` (sha1) Meta also sends is not trusted.
 */
export const metaScheme = bodyHmacScheme({ header: "x-hub-signature-256", prefix: "sha256=", hash: "SHA-256", encoding: "hex" });
