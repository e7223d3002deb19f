import { errorText, log, redact } from "../lib/log";
import type { SourceDefinition } from "../sources/define-source";
import { type AlertEvent, alertBody, alertId, signedHeaders } from "./alert-message";
import { type FleetStatus, fleetStatus } from "./fleet";

export interface AlertEnv {
  DB: D1Database;
  ALERT_WEBHOOK_URL?: string;
  ALERT_SIGNING_SECRET?: string;
}

export interface Condition {
  subject: string;
  condition: string;
  detail: string;
}

const ALERTING_STATES = new Set(["stale", "failing", "zero-record"]);

/** What is wrong right now, one condition per subject. `late` and `paused` do not page anyone. */
export function conditionsOf(fleet: FleetStatus): Condition[] {
  const out: Condition[] = [];
  for (const s of fleet.streams) {
    if (ALERTING_STATES.has(s.state)) out.push({ subject: `stream ${s.source}.${s.stream}`, condition: s.state, detail: s.reason });
  }
  for (const s of fleet.sidecars) {
    if (s.condition !== "ok")
      out.push({
        subject: `sidecar ${s.source}/${s.slot}`,
        condition: s.condition === "failing" ? "failing" : s.condition,
        detail: s.reason,
      });
  }
  for (const [queue, n] of Object.entries(fleet.dlq)) {
    if (n > 0)
      out.push({
        subject: `dlq ${queue}`,
        condition: "dlq-non-empty",
        detail: `${n} message(s) parked; re-drive with POST /admin/dlq/redrive`,
      });
  }
  const gapsBySource = new Map<string, number>();
  // An incomplete day with no count still counts as a gap.
  for (const g of fleet.gaps) gapsBySource.set(g.source, (gapsBySource.get(g.source) ?? 0) + g.missing);
  for (const [source, missing] of gapsBySource) {
    out.push({ subject: `reconciliation ${source}`, condition: "gaps-found", detail: `${missing} event(s) missing or days incomplete` });
  }
  return out;
}

export interface AlertOutcome {
  sent: AlertEvent[];
  failed: { event: AlertEvent; error: string }[];
}

interface Stored {
  subject: string;
  condition: string;
  since: string;
}

/**
 * The scheduler tick's alerting: compares what is wrong now with what was last alerted
 * (alert_state) and posts only the changes — a new or changed condition alerts once, a condition
 * that went away sends a recovery. A subject is claimed in D1 before its post (so two
 * overlapping ticks do not both send) and the claim is undone when the post fails, so the next
 * tick tries again.
 */
export async function evaluateAlerts(
  env: AlertEnv,
  sources: readonly SourceDefinition[],
  now = new Date(),
  fetcher: typeof fetch = fetch,
): Promise<AlertOutcome> {
  const outcome: AlertOutcome = { sent: [], failed: [] };
  if (!env.ALERT_WEBHOOK_URL) return outcome;
  const fleet = await fleetStatus(env.DB, sources, now);
  const current = conditionsOf(fleet);
  const stored = new Map(
    (await env.DB.prepare("SELECT subject, condition, since FROM alert_state").all<Stored>()).results.map((r) => [r.subject, r]),
  );
  const at = now.toISOString();

  for (const c of current) {
    const before = stored.get(c.subject);
    if (before?.condition === c.condition) continue;
    const claim = await env.DB.prepare(
      `INSERT INTO alert_state (subject, condition, detail, since, alerted_at) VALUES (?1, ?2, ?3, ?4, ?4)
       ON CONFLICT (subject) DO UPDATE SET condition = excluded.condition, detail = excluded.detail,
         since = excluded.since, alerted_at = excluded.alerted_at
       WHERE alert_state.condition != excluded.condition`,
    )
      .bind(c.subject, c.condition, c.detail, at)
      .run();
    if ((claim.meta.changes ?? 0) === 0) continue;
    const event: AlertEvent = {
      kind: "alert",
      subject: c.subject,
      condition: c.condition,
      previous: before?.condition ?? null,
      detail: c.detail,
      since: at,
      at,
    };
    if (!(await post(env, event, now, fetcher, outcome))) {
      const undo = before
        ? env.DB.prepare("UPDATE alert_state SET condition = ?2, since = ?3 WHERE subject = ?1").bind(
            c.subject,
            before.condition,
            before.since,
          )
        : env.DB.prepare("DELETE FROM alert_state WHERE subject = ?1 AND condition = ?2").bind(c.subject, c.condition);
      await undo.run();
    }
  }

  const now_ = new Set(current.map((c) => c.subject));
  for (const before of stored.values()) {
    if (now_.has(before.subject)) continue;
    const claim = await env.DB.prepare("DELETE FROM alert_state WHERE subject = ?1 AND condition = ?2")
      .bind(before.subject, before.condition)
      .run();
    if ((claim.meta.changes ?? 0) === 0) continue;
    const event: AlertEvent = {
      kind: "recovery",
      subject: before.subject,
      condition: before.condition,
      previous: before.condition,
      detail: "fine again",
      since: before.since,
      at,
    };
    if (!(await post(env, event, now, fetcher, outcome))) {
      await env.DB.prepare(
        "INSERT OR IGNORE INTO alert_state (subject, condition, detail, since, alerted_at) VALUES (?1, ?2, NULL, ?3, ?3)",
      )
        .bind(before.subject, before.condition, before.since)
        .run();
    }
  }
  return outcome;
}

async function post(env: AlertEnv, event: AlertEvent, now: Date, fetcher: typeof fetch, outcome: AlertOutcome): Promise<boolean> {
  const body = alertBody(event);
  try {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (env.ALERT_SIGNING_SECRET)
      Object.assign(headers, await signedHeaders(env.ALERT_SIGNING_SECRET, await alertId(event), body, Math.floor(now.getTime() / 1000)));
    const res = await fetcher(env.ALERT_WEBHOOK_URL as string, { method: "POST", headers, body });
    if (!res.ok) throw new Error(`alert webhook answered HTTP ${res.status}`);
    outcome.sent.push(event);
    log("info", { event: "alert.sent", kind: event.kind, subject: event.subject, condition: event.condition });
    return true;
  } catch (err) {
    const error = redact(errorText(err), [env.ALERT_SIGNING_SECRET ?? ""]);
    outcome.failed.push({ event, error });
    log("error", { event: "alert.failed", kind: event.kind, subject: event.subject, condition: event.condition, error });
    return false;
  }
}
