import type { HmacScheme } from "../../webhooks/types";
import { prefixedSignature } from "../webhook-helpers";

/**
 * `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the raw body with the webhook's secret.
 * GitHub signs no timestamp: replays are absorbed by dedupe on `X-GitHub-Delivery`.
 */
export const githubScheme: HmacScheme = {
  kind: "hmac",
  hash: "SHA-256",
  encoding: "hex",
  parse(req) {
    const signatures = prefixedSignature(req.headers, "x-hub-signature-256", "sha256=");
    return signatures ? { signatures } : null;
  },
  message: (req) => req.body,
};
