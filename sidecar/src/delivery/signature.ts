import { createHmac } from "node:crypto";

/**
 * The Standard Webhooks `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`,
 * keyed by the base64 after `whsec_`), computed with node:crypto. It gives exactly what the
 * `standardwebhooks` package's `Webhook.sign` gives (signature.test.ts checks), but natively:
 * the package's pure-JS SHA-256 over multi-megabyte bodies was the sidecar's biggest CPU cost.
 */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
}

export function standardWebhookSignature(
  key: Buffer,
  messageId: string,
  timestampSeconds: number,
  body: Uint8Array | readonly Uint8Array[],
): string {
  const mac = createHmac("sha256", key).update(`${messageId}.${timestampSeconds}.`);
  for (const piece of Array.isArray(body) ? body : [body]) mac.update(piece);
  return `v1,${mac.digest("base64")}`;
}
