import { bodyHmacScheme } from "../webhook-helpers";

/**
 * Segment's Webhooks destinations (classic and Actions) sign only when a shared secret is set:
 * `X-Signature` = hex(HMAC-SHA1(shared secret, raw body)), no prefix, no timestamp (Segment docs,
 * "Webhooks (Actions) Destination" → Settings → Advanced: "a hex-encoded SHA1 hash").
 * Unsigned deliveries are refused: set the shared secret in Segment.
 */
export const segmentScheme = bodyHmacScheme({ header: "x-signature", prefix: "", hash: "SHA-1", encoding: "hex" });
