import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { sha256Hex, timingSafeEqualText } from "../lib/crypto";
import { errorText, log, redact } from "../lib/log";

/** Who called: a fingerprint of the presented token (never the token), marked when it was not the admin token. */
export async function actorOf(authorization: string | undefined, adminToken: string | undefined): Promise<string> {
  const match = /^Bearer (\S+)$/.exec(authorization ?? "");
  if (!match) return "anonymous";
  const presented = match[1] as string;
  const fingerprint = (await sha256Hex(presented)).slice(0, 12);
  return adminToken && timingSafeEqualText(presented, adminToken) ? `token:${fingerprint}` : `invalid-token:${fingerprint}`;
}

export type AuditVariables = { auditAction?: string; auditParams?: unknown; actor?: string; auditSkip?: boolean };

const MAX_PARAMS_TEXT = 2000;

/**
 * Records every call that reaches it — refused ones too — after the handler answered: who, what
 * (the action a handler names, else method and path), when, the parameters (query and JSON body,
 * redacted and truncated) and the answer's status.
 */
export function auditTrail(): MiddlewareHandler<{ Bindings: { DB: D1Database; ADMIN_TOKEN?: string }; Variables: AuditVariables }> {
  return async (c, next) => {
    if (!c.env.ADMIN_TOKEN) return next();
    const cookie = getCookie(c, "dock_admin");
    const actor = await actorOf(c.req.header("authorization") ?? (cookie ? `Bearer ${cookie}` : undefined), c.env.ADMIN_TOKEN);
    c.set("actor", actor);
    const url = new URL(c.req.url);
    let body: unknown;
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      try {
        const text = await c.req.raw.clone().text();
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = "(not JSON)";
      }
    }
    await next();
    if (c.get("auditSkip")) return;
    const query = Object.fromEntries(url.searchParams);
    const params = {
      ...(Object.keys(query).length ? { query } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(c.get("auditParams") ? { effect: c.get("auditParams") } : {}),
    };
    let paramsText = Object.keys(params).length ? redact(JSON.stringify(params)) : null;
    if (paramsText && paramsText.length > MAX_PARAMS_TEXT) paramsText = `${paramsText.slice(0, MAX_PARAMS_TEXT)}…`;
    const claimed = c.req.header("x-dock-actor")?.slice(0, 100) ?? null;
    try {
      await c.env.DB.prepare(
        "INSERT INTO admin_audit (at, actor, claimed_actor, method, path, action, params, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
      )
        .bind(
          new Date().toISOString(),
          actor,
          claimed,
          c.req.method,
          url.pathname.slice(0, 500),
          c.get("auditAction") ?? `${c.req.method} ${url.pathname}`.slice(0, 200),
          paramsText,
          c.res.status,
        )
        .run();
    } catch (err) {
      log("error", { event: "admin.audit_failed", error: errorText(err), path: url.pathname });
    }
  };
}

export async function listAudit(d1: D1Database, limit = 100) {
  const rows = await d1.prepare("SELECT * FROM admin_audit ORDER BY id DESC LIMIT ?1").bind(limit).all();
  return rows.results;
}

/** Audit rows older than the retention are removed on the scheduler tick. */
export async function pruneAudit(d1: D1Database, now: Date, days = 400): Promise<number> {
  const res = await d1
    .prepare("DELETE FROM admin_audit WHERE at < ?1")
    .bind(new Date(now.getTime() - days * 86_400_000).toISOString())
    .run();
  return res.meta.changes ?? 0;
}
