import { createHash } from "node:crypto";
import { toHex, utf8 } from "./bytes";

// Byte views go to Web Crypto as BufferSource: Node's DOM typings (TypeScript 5.9) want
// ArrayBuffer-backed views, which every view made here is.
export type HashName = "SHA-1" | "SHA-256" | "SHA-512";

export async function sha256Hex(data: string | Uint8Array | ArrayBuffer): Promise<string> {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return toHex(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
}

/**
 * `sha256Hex` without the promise: one native call (node:crypto), for the raw writer's object keys
 * and checksums, where the awaits were a step of every batch; any length (the plain-JS
 * sha256-sync.ts is for ids of about a hundred bytes).
 */
export function sha256HexNative(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(hash: HashName, secret: Uint8Array | string): Promise<CryptoKey> {
  const raw = typeof secret === "string" ? utf8(secret) : secret;
  // Keys are cached per isolate: importKey costs about as much as the HMAC itself on small bodies.
  const cacheKey = `${hash}:${typeof secret === "string" ? `s:${secret}` : `b:${toHex(raw)}`}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = crypto.subtle.importKey("raw", raw as BufferSource, { name: "HMAC", hash }, false, ["sign"]);
    if (keyCache.size > 256) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

export async function hmac(hash: HashName, secret: Uint8Array | string, message: Uint8Array | string): Promise<Uint8Array> {
  const key = await hmacKey(hash, secret);
  const data = typeof message === "string" ? utf8(message) : message;
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data as BufferSource));
}

/**
 * Constant-time equality of two byte strings. A length mismatch returns false at once: the
 * length of a MAC is public, so that leaks nothing the attacker does not already know.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const subtle = crypto.subtle as SubtleCrypto & {
    timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean;
  };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Constant-time comparison of two strings (tokens, shared secrets). */
export function timingSafeEqualText(a: string, b: string): boolean {
  return timingSafeEqual(utf8(a), utf8(b));
}
