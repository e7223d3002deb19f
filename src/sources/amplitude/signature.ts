import type { CustomScheme } from "../../webhooks/types";
import { singleHeader, tokenEquals } from "../webhook-helpers";

export const HEADER_SETTING = "AMPLITUDE_WEBHOOK_HEADER";
export const DEFAULT_HEADER = "x-webhook-secret";

/**
 * Amplitude's webhook destinations do not sign; they send the custom headers configured in
 * Amplitude. Loading Dock expects the shared secret (AMPLITUDE_WEBHOOK_SECRET) in one header —
 * `X-Webhook-Secret` unless AMPLITUDE_WEBHOOK_HEADER names another; `Authorization: Bearer <secret>`
 * works too when that header is `Authorization`. Compared in constant time, content and length.
 * The same scheme serves any sender that can only add a static header.
 */
export function headerSecretScheme(setting: string, fallbackHeader: string): CustomScheme {
  return {
    kind: "custom",
    async verify(req, secret, ctx) {
      const header = ctx.config?.[setting] ?? fallbackHeader;
      const value = singleHeader(req.headers, header, 1024);
      if (!value) return false;
      const presented = header.toLowerCase() === "authorization" && value.startsWith("Bearer ") ? value.slice(7) : value;
      return tokenEquals(presented, secret);
    },
  };
}

export const amplitudeScheme = headerSecretScheme(HEADER_SETTING, DEFAULT_HEADER);
