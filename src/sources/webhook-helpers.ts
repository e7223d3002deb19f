import { propertySpan, type Span } from "../envelope/json-spans";
import { type HashName, timingSafeEqual } from "../lib/crypto";
import type { HmacScheme } from "../webhooks/types";

/**
 * Small helpers the webhook sources share: stream names that are safe key segments, and ids read
 * from the raw JSON text (a JS number cannot hold every 64-bit id, so numeric ids are read as text).
 */

/** `contact` → `contacts`, `company` → `companies`, `Orders/Create` → `orders_create`. */
export function streamName(name: string, plural = true): string {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 100);
  if (!s) return "events";
  if (plural && !s.endsWith("s")) s = s.endsWith("y") && !/[aeiou]y$/.test(s) ? `${s.slice(0, -1)}ies` : `${s}s`;
  return s;
}

/**
 * The value of a property of the JSON object that starts at `span` (the whole text when absent),
 * as text: strings unquoted, numbers with their digits as sent. Null when absent or not a scalar.
 */
export function fieldText(text: string, name: string, span?: Span): string | null {
  const at = propertySpan(text, name, span?.[0] ?? 0);
  if (!at) return null;
  const raw = text.slice(at[0], at[1]);
  if (raw.startsWith('"')) return JSON.parse(raw) as string;
  return /^-?\d/.test(raw) ? raw : null;
}

/** A header that must appear once: null when absent, empty, or repeated (joined by ", "). */
export function singleHeader(headers: Headers, name: string, maxLength = 512): string | null {
  const value = headers.get(name);
  if (!value || value.length > maxLength || value.includes(", ")) return null;
  return value;
}

/** A signature header `<prefix><value>` that must appear once; null otherwise. */
export function prefixedSignature(headers: Headers, name: string, prefix: string): string[] | null {
  const value = headers.get(name);
  if (!value?.startsWith(prefix) || value.includes(",") || value.length > 1024) return null;
  return [value.slice(prefix.length)];
}

/**
 * The most common scheme: an HMAC of the raw body, in one header, with an optional prefix
 * (`sha256=`), no timestamp. GitHub, Shopify, Intercom, Segment and Meta are this, with different
 * data.
 */
export function bodyHmacScheme(spec: { header: string; prefix: string; hash: HashName; encoding: "hex" | "base64" }): HmacScheme {
  return {
    kind: "hmac",
    hash: spec.hash,
    encoding: spec.encoding,
    parse(req) {
      const signatures = prefixedSignature(req.headers, spec.header, spec.prefix);
      return signatures ? { signatures } : null;
    },
    message: (req) => req.body,
  };
}

/** Span of a property's value in the object starting at `from` (default the top level), or null (also when that is not an object). */
export function propertySpanOrNull(text: string, name: string, from?: number): Span | null {
  try {
    return propertySpan(text, name, from);
  } catch {
    return null;
  }
}

/**
 * Constant-time equality of a presented token and the configured one, whatever their lengths:
 * both are hashed first, so neither the content nor the length of the secret leaks through timing.
 */
export async function tokenEquals(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  return timingSafeEqual(a, b) && expected.length > 0;
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}
