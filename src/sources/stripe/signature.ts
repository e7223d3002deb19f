import { concatBytes } from "../../webhooks/verify";
import type { HmacScheme, ParsedSignature, WebhookRequest } from "../../webhooks/types";

/**
 * `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of `<t>.<raw body>` with the
 * whsec_ secret used as is. Any v1 may match (Stripe sends several while a secret rolls); v0 and
 * unknown schemes are ignored. Two `t` values (a duplicated header) are refused.
 */
export function parseStripeSignature(header: string | null): ParsedSignature | null {
  if (!header || header.length > 4096) return null;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const raw of header.split(",")) {
    // A repeated header reaches us joined by ", ": trimming makes its second `t` visible, and refused.
    const item = raw.trim();
    const eq = item.indexOf("=");
    if (eq <= 0) return null;
    const name = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (name === "t") {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (name === "v1") {
      signatures.push(value);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return null;
  return { timestamp, signatures };
}

export const stripeScheme: HmacScheme = {
  kind: "hmac",
  hash: "SHA-256",
  encoding: "hex",
  parse: (req: WebhookRequest) => parseStripeSignature(req.headers.get("stripe-signature")),
  message: (req, parsed) => concatBytes(`${parsed.timestamp}.`, req.body),
};
