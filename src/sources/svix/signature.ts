import { standardWebhooksScheme, type StandardWebhookSignature } from "../../webhooks/schemes/standard-webhooks";
import type { HmacScheme } from "../../webhooks/types";

/**
 * Svix and every Standard Webhooks sender: the shared scheme, plus one refusal. Several signatures
 * are separated by single spaces (`v1,a v1,b`); a repeated `webhook-signature` header arrives
 * joined by ", ", which no genuine value contains, so it is refused rather than searched.
 */
export const svixScheme: HmacScheme<StandardWebhookSignature> = {
  ...standardWebhooksScheme,
  parse(req) {
    if (req.headers.get("webhook-signature")?.includes(", ")) return null;
    return standardWebhooksScheme.parse(req);
  },
};
