import { toHex } from "../lib/bytes";
import { hmac, timingSafeEqualText } from "../lib/crypto";
import { secretName } from "../webhooks/secrets";

/** `acme` → the value of `ACME_FILES_TOKEN`, or null when the source takes no files. */
export function filesToken(env: object, source: string): string | null {
  const value = (env as Record<string, unknown>)[secretName(source, "FILES_TOKEN")];
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** Longest a signed URL may stay valid: a leaked link must not be a standing credential. */
export const MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600;

function signedMessage(method: string, path: string, expires: number): string {
  return `${method.toUpperCase()}\n${path}\n${expires}`;
}

/** hex(HMAC-SHA256(token, METHOD "\n" path "\n" expires)); `path` is the URL path as sent (percent-encoded). */
export async function urlSignature(token: string, method: string, path: string, expires: number): Promise<string> {
  return toHex(await hmac("SHA-256", token, signedMessage(method, path, expires)));
}

/** A ready-to-use signed URL for a drop: `<base>/files/<source>/<name>?expires=…&signature=…`. */
export async function signFileUrl(base: string, token: string, source: string, name: string, expires: number): Promise<string> {
  const path = `/files/${encodeURIComponent(source)}/${encodeURIComponent(name)}`;
  const signature = await urlSignature(token, "PUT", path, expires);
  return `${base.replace(/\/$/, "")}${path}?expires=${expires}&signature=${signature}`;
}

/** Bearer token or signed URL; both compared in constant time. */
export async function isAuthorized(request: Request, token: string, nowSeconds: number): Promise<boolean> {
  const bearer = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "");
  if (bearer) return timingSafeEqualText(bearer[1] as string, token);
  const url = new URL(request.url);
  const expires = Number(url.searchParams.get("expires") ?? "NaN");
  const signature = url.searchParams.get("signature") ?? "";
  if (!Number.isInteger(expires) || expires < nowSeconds || expires > nowSeconds + MAX_SIGNED_URL_SECONDS) return false;
  const expected = await urlSignature(token, request.method, url.pathname, expires);
  return timingSafeEqualText(signature.toLowerCase(), expected);
}
