import type { HmacScheme, ParsedSignature } from "../../webhooks/types";
import { concatBytes } from "../../webhooks/verify";
import { singleHeader } from "../webhook-helpers";

/**
 * Klaviyo system webhooks: `Klaviyo-Signature` = hex(HMAC-SHA256(webhook secret, raw body +
 * Klaviyo-Timestamp)), no separator. Klaviyo's "Working with system webhooks" page lists the
 * headers (Klaviyo-Webhook-Id, Klaviyo-Signature, Klaviyo-Timestamp) and calls the signature an
 * HMAC-SHA256; the body-then-timestamp order comes from integrations found through the search tool
 * (the page's recipe itself did not come through) — unconfirmed by Klaviyo's own text.
 * The timestamp is signed as the exact header text. Its format is not documented: when it reads as
 * a time (ISO 8601, or unix seconds / milliseconds) it must be within the tolerance; otherwise
 * only the signature is checked (and dedupe on `external_id` absorbs replays).
 */
interface KlaviyoSignature extends ParsedSignature {
  rawTimestamp: string;
}

export function klaviyoTimestampSeconds(text: string): number | undefined {
  if (/^\d{1,16}$/.test(text)) {
    const n = Number(text);
    return n > 1e11 ? Math.floor(n / 1000) : n;
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const ms = Date.parse(text);
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
  }
  return undefined;
}

export const klaviyoScheme: HmacScheme<KlaviyoSignature> = {
  kind: "hmac",
  hash: "SHA-256",
  encoding: "hex",
  parse(req) {
    const signature = singleHeader(req.headers, "klaviyo-signature", 256);
    const ts = singleHeader(req.headers, "klaviyo-timestamp", 64);
    if (!signature || !ts) return null;
    const timestamp = klaviyoTimestampSeconds(ts);
    return { signatures: [signature], rawTimestamp: ts, ...(timestamp === undefined ? {} : { timestamp }) };
  },
  message: (req, p) => concatBytes(req.body, p.rawTimestamp),
};
