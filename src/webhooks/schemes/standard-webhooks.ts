import { fromBase64 } from "../../lib/bytes";
import type { HmacScheme, ParsedSignature } from "../types";
import { concatBytes } from "../verify";

/**
 * The Standard Webhooks scheme (standardwebhooks.com; Svix and others): `webhook-id`,
 * `webhook-timestamp` (unix seconds), `webhook-signature: v1,<base64> [v1,<base64> …]`, an
 * HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed by the base64 secret after `whsec_`.
 * Signatures of other versions (`v1a,` is ed25519) are skipped, not trusted.
 */
export interface StandardWebhookSignature extends ParsedSignature {
  id: string;
  rawTimestamp: string;
}

export function parseStandardWebhookHeaders(headers: Headers): StandardWebhookSignature | null {
  const id = headers.get("webhook-id");
  const ts = headers.get("webhook-timestamp");
  const sig = headers.get("webhook-signature");
  if (!id || !ts || !sig || id.length > 256 || sig.length > 4096 || !/^\d{1,12}$/.test(ts)) return null;
  if (id.includes(",")) return null; // a duplicated webhook-id header arrives joined by ", "
  const signatures = sig
    .split(" ")
    .map((s) => s.trim())
    .filter((s) => s.startsWith("v1,"))
    .map((s) => s.slice(3));
  return { id, rawTimestamp: ts, timestamp: Number(ts), signatures };
}

export function standardWebhookKey(secret: string): Uint8Array | null {
  return fromBase64(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
}

export const standardWebhooksScheme: HmacScheme<StandardWebhookSignature> = {
  kind: "hmac",
  hash: "SHA-256",
  encoding: "base64",
  parse: (req) => parseStandardWebhookHeaders(req.headers),
  message: (req, p) => concatBytes(`${p.id}.${p.rawTimestamp}.`, req.body),
  key: standardWebhookKey,
};
