import type { HmacScheme } from "../../webhooks/types";
import { prefixedSignature } from "../webhook-helpers";

/**
 * Intercom's signed notifications: `X-Hub-Signature: sha1=<hex>`, an HMAC-SHA1 of the raw body
 * keyed by the app's client secret. No timestamp is signed: dedupe on the notification id.
 */
export const intercomScheme: HmacScheme = {
  kind: "hmac",
  hash: "SHA-1",
  encoding: "hex",
  parse(req) {
    const signatures = prefixedSignature(req.headers, "x-hub-signature", "sha1=");
    return signatures ? { signatures } : null;
  },
  message: (req) => req.body,
};
