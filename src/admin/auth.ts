import type { MiddlewareHandler } from "hono";
import { timingSafeEqualText } from "../lib/crypto";

/**
 * Bearer ADMIN_TOKEN. With no token configured the admin surface does not exist (404), so a
 * forgotten secret never leaves it open.
 */
export function adminAuth(): MiddlewareHandler<{ Bindings: { ADMIN_TOKEN?: string } }> {
  return async (c, next) => {
    const token = c.env.ADMIN_TOKEN;
    if (!token) return c.json({ error: "not found" }, 404);
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match || !timingSafeEqualText(match[1] as string, token)) {
      return c.json({ error: "unauthorized" }, 401, { "www-authenticate": "Bearer" });
    }
    await next();
  };
}
