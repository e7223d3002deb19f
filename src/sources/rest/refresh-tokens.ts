import { sha256Hex } from "../../lib/crypto";

/**
 * Where the newest refresh token of an OAuth grant is kept, for vendors that send a new one with
 * every refresh and accept each only once. The configured secret (`<SOURCE>_REFRESH_TOKEN`) is
 * only the start of a chain: after the first rotation it is spent, and the token that works is the
 * one the vendor sent last. It is kept in D1 (`oauth_refresh_tokens`), sealed with AES-GCM under a
 * key derived from the configured refresh token and client secret (which D1 never holds), so a
 * copy of the database alone is not a credential. A new configured secret starts a new chain.
 */
export interface Grant {
  tokenUrl: string;
  clientId: string;
  clientSecret?: string;
  /** The refresh token the operator configured. */
  configured: string;
}

/** Per isolate as well: an env without D1 (and a write that failed) still keeps the newest token here. */
const latest = new Map<string, string>();

export function clearRefreshTokenMemory(): void {
  latest.clear();
}

async function grantKey(g: Grant): Promise<string> {
  return sha256Hex(`oauth grant\n${g.tokenUrl}\n${g.clientId}\n${g.configured}`);
}

async function sealingKey(g: Grant): Promise<CryptoKey> {
  const material = new TextEncoder().encode(`loading-dock refresh token seal\n${g.configured}\n${g.clientSecret ?? ""}`);
  const digest = await crypto.subtle.digest("SHA-256", material);
  return crypto.subtle.importKey("raw", digest, "AES-GCM", false, ["encrypt", "decrypt"]);
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function d1Of(env: Record<string, unknown>): D1Database | undefined {
  const db = env.DB as D1Database | undefined;
  return db && typeof db.prepare === "function" ? db : undefined;
}

/** The refresh token to send: the newest one stored for this grant, or the configured one. */
export async function currentRefreshToken(env: Record<string, unknown>, g: Grant): Promise<string> {
  const key = await grantKey(g);
  const db = d1Of(env);
  if (db) {
    const row = await db.prepare("SELECT sealed FROM oauth_refresh_tokens WHERE grant_key = ?1").bind(key).first<{ sealed: string }>();
    if (row) {
      const token = await unseal(g, row.sealed);
      if (token !== null) {
        latest.set(key, token);
        return token;
      }
    }
  }
  return latest.get(key) ?? g.configured;
}

/** Keeps the vendor's new refresh token; resolves once it is stored (before the access token is used). */
export async function storeRefreshToken(env: Record<string, unknown>, g: Grant, token: string, now = new Date()): Promise<void> {
  const key = await grantKey(g);
  latest.set(key, token);
  const db = d1Of(env);
  if (!db) return;
  const sealed = await seal(g, token);
  await db
    .prepare(
      "INSERT INTO oauth_refresh_tokens (grant_key, sealed, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (grant_key) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
    )
    .bind(key, sealed, now.toISOString())
    .run();
}

async function seal(g: Grant, token: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await sealingKey(g), new TextEncoder().encode(token)));
  const out = new Uint8Array(iv.length + cipher.length);
  out.set(iv);
  out.set(cipher, iv.length);
  return toBase64(out);
}

/** null when the row was sealed under other secrets (a changed client secret): the configured token is used. */
async function unseal(g: Grant, sealed: string): Promise<string | null> {
  try {
    const bytes = fromBase64(sealed);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12) }, await sealingKey(g), bytes.subarray(12));
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}
