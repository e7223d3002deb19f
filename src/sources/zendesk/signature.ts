import type { HmacScheme, ParsedSignature } from "../../webhooks/types";
import { concatBytes } from "../../webhooks/verify";
import { singleHeader } from "../webhook-helpers";

/**
 * Zendesk webhooks: `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(signing secret,
 * TIMESTAMP + BODY)) with `X-Zendesk-Webhook-Signature-Timestamp` an ISO 8601 time; the body may
 * be empty. The signing secret is used as its UTF-8 text (Zendesk's Node example passes it as is).
 *
 * Checked on developer.zendesk.com/documentation/webhooks/verifying (Nov 2026): "base64(HMACSHA256
 * (TIMESTAMP + BODY))". One copy of that page (event-connectors/…) writes "(BODY)(TIMESTAMP)"
 * and its sample vector matches that order; the main page, Zendesk's Express sample and
 * integrations in use sign timestamp first, which is what is implemented here. Zendesk gives no
 * tolerance: the common 300 s applies (configurable per source).
 */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

interface ZendeskSignature extends ParsedSignature {
  rawTimestamp: string;
}

export const zendeskScheme: HmacScheme<ZendeskSignature> = {
  kind: "hmac",
  hash: "SHA-256",
  encoding: "base64",
  parse(req) {
    const signature = singleHeader(req.headers, "x-zendesk-webhook-signature", 256);
    const ts = singleHeader(req.headers, "x-zendesk-webhook-signature-timestamp", 64);
    if (!signature || !ts || !ISO.test(ts)) return null;
    const ms = Date.parse(ts);
    if (!Number.isFinite(ms)) return null;
    return { signatures: [signature], timestamp: Math.floor(ms / 1000), rawTimestamp: ts };
  },
  message: (req, p) => concatBytes(p.rawTimestamp, req.body),
};
