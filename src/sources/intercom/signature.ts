import { bodyHmacScheme } from "../webhook-helpers";

/**
 * Intercom's signed notifications: `X-Hub-Signature: sha1=<hex>`, an HMAC-SHA1 of the raw body
 * keyed by the app's client secret. No timestamp is signed: dedupe on the notification id.
 */
export const intercomScheme = bodyHmacScheme({ header: "x-hub-signature", prefix: "sha1=", hash: "SHA-1", encoding: "hex" });
