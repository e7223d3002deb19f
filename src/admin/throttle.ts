/**
 * Throttling of admin-token guesses, per client, in D1 so that every isolate sees the same count.
 *
 * An attempt is counted *before* the token is checked and cleared when it was right, so parallel
 * guesses cannot all slip in between a check and a count, and a wrong guess is refused the same way
 * as a right one once the client is over the limit (no oracle). The window starts at a client's
 * first attempt; past MAX_ATTEMPTS in it, the client waits until it ends.
 */
export const MAX_ATTEMPTS = 5;
export const WINDOW_MS = 15 * 60_000;

export interface TokenAttempt {
  /** Seconds until this client may try again; 0 when it may try now. */
  retryAfterSeconds: number;
  /** The token was right: the client's count is cleared. */
  succeeded(): Promise<void>;
}

const notCounted: TokenAttempt = { retryAfterSeconds: 0, succeeded: async () => {} };

/**
 * The client a request comes from: Cloudflare's CF-Connecting-IP, an IPv6 address by its /64 (one
 * subscriber's block). Null without the header, which only requests that did not come through
 * Cloudflare's edge lack (a service binding, a test calling the app directly).
 */
export function clientOf(request: Request): string | null {
  const ip = request.headers.get("cf-connecting-ip")?.trim();
  if (!ip) return null;
  return ip.includes(":") ? `${ipv6Groups(ip).slice(0, 4).join(":")}::/64` : ip;
}

function ipv6Groups(ip: string): string[] {
  const [head = "", tail] = ip.toLowerCase().split("%")[0]?.split("::") ?? [];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const middle = tail === undefined ? [] : Array.from({ length: Math.max(0, 8 - left.length - right.length) }, () => "0");
  return [...left, ...middle, ...right].map((g) => g.replace(/^0+(?=.)/, ""));
}

/** Counts one attempt of the request's client at presenting the admin token. */
export async function countTokenAttempt(db: D1Database, request: Request, now = Date.now()): Promise<TokenAttempt> {
  const client = clientOf(request);
  if (!client) return notCounted;
  const [counted] = await db.batch<{ attempts: number; window_start: number }>([
    db
      .prepare(
        `INSERT INTO auth_attempts (client, attempts, window_start) VALUES (?1, 1, ?2)
         ON CONFLICT(client) DO UPDATE SET
           attempts = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE attempts + 1 END,
           window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END
         RETURNING attempts, window_start`,
      )
      .bind(client, now, WINDOW_MS),
    // Rows of other clients whose window is over are of no use any more.
    db.prepare("DELETE FROM auth_attempts WHERE window_start <= ?1 - ?2 AND client <> ?3").bind(now, WINDOW_MS, client),
  ]);
  const row = counted?.results[0];
  const over = !!row && row.attempts > MAX_ATTEMPTS;
  return {
    retryAfterSeconds: over ? Math.max(1, Math.ceil((row.window_start + WINDOW_MS - now) / 1000)) : 0,
    succeeded: async () => {
      await db.prepare("DELETE FROM auth_attempts WHERE client = ?1").bind(client).run();
    },
  };
}

/** What a throttled client is told, in words. */
export function tryAgainIn(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return `Too many wrong tokens from your address. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}
