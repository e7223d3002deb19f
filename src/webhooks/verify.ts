import { fromBase64, fromHex } from "../lib/bytes";
import { hmac, timingSafeEqual } from "../lib/crypto";
import type { HmacScheme, SignatureScheme, VerifyContext, WebhookRequest } from "./types";

/** True when a signed timestamp is within the tolerance of now, in either direction. */
export function isFresh(timestampSeconds: number, ctx: VerifyContext): boolean {
  return Number.isFinite(timestampSeconds) && Math.abs(ctx.nowSeconds - timestampSeconds) <= ctx.toleranceSeconds;
}

function decode(encoding: "hex" | "base64", text: string): Uint8Array | null {
  return encoding === "hex" ? fromHex(text) : fromBase64(text);
}

async function verifyHmac(scheme: HmacScheme, req: WebhookRequest, secrets: readonly string[], ctx: VerifyContext): Promise<boolean> {
  const parsed = scheme.parse(req);
  if (!parsed || parsed.signatures.length === 0) return false;
  if (parsed.timestamp !== undefined && !isFresh(parsed.timestamp, ctx)) return false;
  const candidates = parsed.signatures.map((s) => decode(scheme.encoding, s)).filter((s): s is Uint8Array => s !== null);
  if (candidates.length === 0) return false;
  const message = scheme.message(req, parsed);
  let ok = false;
  for (const secret of secrets) {
    const key = scheme.key ? scheme.key(secret) : secret;
    if (key === null) continue;
    const expected = await hmac(scheme.hash, key, message);
    // Every candidate is compared, match or not, so timing says nothing about which one matched.
    for (const candidate of candidates) ok = timingSafeEqual(expected, candidate) || ok;
  }
  return ok;
}

/** Verifies a request against every configured secret (current and previous during a rotation). */
export async function verifySignature(
  scheme: SignatureScheme,
  req: WebhookRequest,
  secrets: readonly string[],
  ctx: VerifyContext,
): Promise<boolean> {
  if (secrets.length === 0) return false;
  if (scheme.kind === "hmac") return verifyHmac(scheme, req, secrets, ctx);
  let ok = false;
  for (const secret of secrets) ok = (await scheme.verify(req, secret, ctx)) || ok;
  return ok;
}

const encoder = new TextEncoder();

export function concatBytes(...parts: (Uint8Array | string)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.byteLength, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.byteLength;
  }
  return out;
}
