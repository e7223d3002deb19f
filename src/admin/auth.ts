import type { MiddlewareHandler } from "hono";
import { timingSafeEqualText } from "../lib/crypto";
import { countTokenAttempt, tryAgainIn } from "./throttle";

/**
 * Bearer ADMIN_TOKEN. With no token configured the admin surface does not exist (404), so a
 * forgotten secret never leaves it open. A client that presents too many wrong tokens gets 429 with
 * Retry-After, whatever it presents next, until its window ends (src/admin/throttle.ts).
 */
export function adminAuth(): MiddlewareHandler<{ Bindings: { ADMIN_TOKEN?: string; DB: D1Database } }> {
  return async (c, next) => {
    const token = c.env.ADMIN_TOKEN;
    if (!token) return c.json({ error: "not found" }, 404);
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match) return c.json({ error: "unauthorized" }, 401, { "www-authenticate": "Bearer" });
    const attempt = await countTokenAttempt(c.env.DB, c.req.raw);
    if (attempt.retryAfterSeconds) {
      return c.json({ error: tryAgainIn(attempt.retryAfterSeconds) }, 429, { "retry-after": String(attempt.retryAfterSeconds) });
    }
    if (!timingSafeEqualText(match[1] as string, token)) {
      return c.json({ error: "unauthorized" }, 401, { "www-authenticate": "Bearer" });
    }
    await attempt.succeeded();
    await next();
  };
}
