import { bodyHmacScheme } from "../webhook-helpers";

/**
 * `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the raw body with the webhook's secret.
 * GitHub signs no timestamp: replays are absorbed by dedupe on `X-GitHub-Delivery`.
 */
export const githubScheme = bodyHmacScheme({ header: "x-hub-signature-256", prefix: "sha256=", hash: "SHA-256", encoding: "hex" });
