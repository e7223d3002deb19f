import type { HmacScheme } from "../../webhooks/types";
import { prefixedSignature } from "../webhook-helpers";

/**
 * Meta (Graph API) webhooks: `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the raw body
 * keyed by the app secret. The older `X-Hub-Signature` (sha1) Meta also sends is not trusted.
 */
export const metaScheme: HmacScheme = {
  kind: "hmac",
  hash: "SHA-256",
  encoding: "hex",
  parse(req) {
    const signatures = prefixedSignature(req.headers, "x-hub-signature-256", "sha256=");
    return signatures ? { signatures } : null;
  },
  message: (req) => req.body,
};
