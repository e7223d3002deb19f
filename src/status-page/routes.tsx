import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { listRuns } from "../admin/actions";
import { timingSafeEqualText } from "../lib/crypto";
import { countTokenAttempt, tryAgainIn } from "../admin/throttle";
import { type AuditVariables, auditTrail } from "../ops/audit";
import { fleetStatus, type RunSummary } from "../ops/fleet";
import { reconciliationStatus } from "../reconcile/status";
import type { SourceDefinition } from "../sources/define-source";
import { LoginPage, OverviewPage, StreamPage } from "./pages";

export const SESSION_COOKIE = "dock_admin";

interface PageEnv {
  ADMIN_TOKEN?: string;
  DB: D1Database;
}
type PageContext = Context<{ Bindings: PageEnv; Variables: AuditVariables }>;

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

type Verdict = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Checks a presented admin token, counted against the client's allowance of attempts (a client
 * over it is refused whatever it presents: src/admin/throttle.ts). Nothing presented is no attempt.
 */
async function checkToken(c: PageContext, presented: string | undefined): Promise<Verdict> {
  if (!presented) return { ok: false, retryAfterSeconds: 0 };
  const attempt = await countTokenAttempt(c.env.DB, c.req.raw);
  if (attempt.retryAfterSeconds) return { ok: false, retryAfterSeconds: attempt.retryAfterSeconds };
  if (!timingSafeEqualText(presented, c.env.ADMIN_TOKEN as string)) return { ok: false, retryAfterSeconds: 0 };
  await attempt.succeeded();
  return { ok: true };
}

/** The admin token from the session cookie or a Bearer header; the cookie is only honoured on these GET pages. */
function authorized(c: PageContext): Promise<Verdict> {
  const bearer = /^Bearer (\S+)$/.exec(c.req.header("authorization") ?? "")?.[1];
  return checkToken(c, bearer ?? getCookie(c, SESSION_COOKIE));
}

function page(c: PageContext, html: string | Promise<string>, status: 200 | 401 | 404 | 429 = 200, retryAfterSeconds = 0) {
  return c.html(html, status, retryAfterSeconds ? { ...SECURITY_HEADERS, "retry-after": String(retryAfterSeconds) } : SECURITY_HEADERS);
}

function throttled(c: PageContext, retryAfterSeconds: number) {
  return page(c, (<LoginPage error={tryAgainIn(retryAfterSeconds)} />) as unknown as string, 429, retryAfterSeconds);
}

/**
 * The status page: server-rendered with Hono's JSX (no build step, no script), behind the admin
 * token. A login form puts the token in an HttpOnly, Secure, SameSite=Strict cookie.
 */
export function statusPageRoutes(sources: readonly SourceDefinition[]) {
  const app = new Hono<{ Bindings: PageEnv; Variables: AuditVariables }>();
  // With no admin token configured the pages do not exist, like the rest of the admin surface.
  const enabled: MiddlewareHandler<{ Bindings: PageEnv }> = async (c, next) => {
    if (!c.env.ADMIN_TOKEN) return c.json({ error: "not found" }, 404);
    await next();
  };
  for (const path of ["/", "/streams/*", "/login", "/logout"]) app.use(path, enabled, auditTrail());

  app.get("/", async (c) => {
    const verdict = await authorized(c);
    if (!verdict.ok && verdict.retryAfterSeconds) return throttled(c, verdict.retryAfterSeconds);
    if (!verdict.ok) {
      // Showing the login form is not an admin call: anyone may load it, so it is not audited.
      c.set("auditSkip", true);
      return page(c, (<LoginPage />) as unknown as string);
    }
    c.set("auditAction", "view status page");
    const now = new Date();
    const env = c.env as unknown as Record<string, unknown>;
    const [fleet, reconciliation] = await Promise.all([
      fleetStatus(c.env.DB, sources, now, env),
      reconciliationStatus(c.env.DB, sources, now),
    ]);
    return page(c, (<OverviewPage fleet={fleet} now={now} reconciliation={reconciliation} />) as unknown as string);
  });

  app.get("/streams/:source/:stream", async (c) => {
    if (!(await authorized(c)).ok) return c.redirect("/", 303);
    c.set("auditAction", "view stream page");
    const now = new Date();
    const { source, stream } = c.req.param();
    const fleet = await fleetStatus(c.env.DB, sources, now, c.env as unknown as Record<string, unknown>);
    const s = fleet.streams.find((x) => x.source === source && x.stream === stream);
    if (!s) return page(c, (<LoginPage error={`No stream ${source}.${stream}.`} />) as unknown as string, 404);
    const runs = (await listRuns(c.env.DB, { source, stream, limit: 50 })) as unknown as RunSummary[];
    const letters = (
      await c.env.DB.prepare(
        "SELECT id, queue, attempts, parked_at, substr(body, 1, 300) AS body_head FROM dead_letters WHERE source = ?1 AND stream = ?2 AND redriven_at IS NULL ORDER BY parked_at DESC LIMIT 20",
      )
        .bind(source, stream)
        .all<{ id: string; queue: string; attempts: number; parked_at: string; body_head: string }>()
    ).results;
    const nc = fleet.not_configured.find((n) => n.source === source);
    return page(c, (<StreamPage s={s} nc={nc} runs={runs} letters={letters} now={now} />) as unknown as string);
  });

  app.post("/login", async (c) => {
    c.set("auditAction", "log in");
    const form = await c.req.parseBody();
    const token = typeof form.token === "string" ? form.token : "";
    const verdict = await checkToken(c, token);
    if (!verdict.ok && verdict.retryAfterSeconds) return throttled(c, verdict.retryAfterSeconds);
    if (!verdict.ok) return page(c, (<LoginPage error="That token is not the admin token." />) as unknown as string, 401);
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, secure: true, sameSite: "Strict", path: "/", maxAge: 12 * 3600 });
    return c.redirect("/", 303);
  });

  app.post("/logout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
    return c.redirect("/", 303);
  });
  return app;
}
