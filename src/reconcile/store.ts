import { webhookRecordsPerDay } from "./webhook-records";
import { clip, DAY_MS, daysOf } from "./window";
import type { ReconcileWindow } from "./types";

/*
 * D1 for reconciliation: the source's lock and watermark (reconcile_state), the events listed
 * (reconcile_events), the ledger (reconcile_ledger) and the run rows (`runs`, pattern reconcile).
 * Lists travel as one JSON parameter read with json_each, like the raw writer's, so a page of any
 * size is one statement, far from D1's 100-parameter limit. Tables: src/db/schema.ts. What came by
 * webhook on a day that cannot be checked is counted from raw_objects (webhook-records.ts).
 */

/** A reconciliation run's row in `runs`; `stream` is this placeholder (a run covers every stream). */
export const RUN_STREAM = "_all";
/** A run whose heartbeat is older than this no longer holds its source. */
export const STALE_AFTER_MS = 30 * 60_000;

/** How a listed event or object stood: came by webhook (events), held at its version or newer (objects), recovered, missing. */
export type Outcome = "webhook" | "held" | "reconcile" | "missing";

export interface RunState {
  v: 1;
  window: ReconcileWindow;
  /** Asked for by an operator (the watermark then moves only if the window joins it). */
  requested: boolean;
  next: string | null;
  pages: number;
  listed: number;
  received: number;
  recovered: number;
  missing: number;
  retriesLeft: number;
  unrecoverable?: ReconcileWindow;
  /** `record` for a record-level listing (then `received` counts objects held); absent: events. */
  unit?: "event" | "record";
}

export interface SourceState {
  reconciledTo: string | null;
  activeRunId: string | null;
  heartbeatAt: string | null;
}

export async function readSourceState(d1: D1Database, source: string): Promise<SourceState | null> {
  const row = await d1
    .prepare("SELECT reconciled_to, active_run_id, heartbeat_at FROM reconcile_state WHERE source = ?1")
    .bind(source)
    .first<{ reconciled_to: string | null; active_run_id: string | null; heartbeat_at: string | null }>();
  return row ? { reconciledTo: row.reconciled_to, activeRunId: row.active_run_id, heartbeatAt: row.heartbeat_at } : null;
}

/**
 * Takes the source for `runId` unless another live run holds it (a retried message of this run may
 * take it again); a dead holder's run is marked failed.
 */
export async function claimSource(d1: D1Database, source: string, runId: string, now: Date): Promise<boolean> {
  const nowIso = now.toISOString();
  const stale = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
  const before = await readSourceState(d1, source);
  const [, claimed] = await d1.batch([
    d1.prepare("INSERT OR IGNORE INTO reconcile_state (source, updated_at) VALUES (?1, ?2)").bind(source, nowIso),
    d1
      .prepare(
        `UPDATE reconcile_state SET active_run_id = ?2, heartbeat_at = ?3, updated_at = ?3
         WHERE source = ?1 AND (active_run_id IS NULL OR active_run_id = ?2 OR heartbeat_at IS NULL OR heartbeat_at < ?4)`,
      )
      .bind(source, runId, nowIso, stale),
  ]);
  if ((claimed?.meta.changes ?? 0) === 0) return false;
  if (before?.activeRunId && before.activeRunId !== runId) {
    await d1
      .prepare("UPDATE runs SET status = 'failed', finished_at = ?2, error = ?3 WHERE id = ?1 AND status = 'running'")
      .bind(before.activeRunId, nowIso, `abandoned: no heartbeat since ${before.heartbeatAt}`)
      .run();
  }
  return true;
}

export async function insertRun(d1: D1Database, id: string, source: string, state: RunState, now: Date): Promise<string> {
  const text = JSON.stringify(state);
  await d1
    .prepare(
      `INSERT OR IGNORE INTO runs (id, source, stream, pattern, status, started_at, records, pages, cursor_from, cursor_to, state)
       VALUES (?1, ?2, ?3, 'reconcile', 'running', ?4, 0, 0, ?5, ?6, ?7)`,
    )
    .bind(id, source, RUN_STREAM, now.toISOString(), state.window.from, state.window.to, text)
    .run();
  return text;
}

export async function loadRun(d1: D1Database, id: string): Promise<{ status: string; state: RunState; text: string } | null> {
  const row = await d1
    .prepare("SELECT status, state FROM runs WHERE id = ?1 AND pattern = 'reconcile'")
    .bind(id)
    .first<{ status: string; state: string }>();
  return row ? { status: row.status, state: JSON.parse(row.state) as RunState, text: row.state } : null;
}

/**
 * What one run listed, counted by distinct id from reconcile_events (a keyset-paged listing
 * serves the records at a page boundary twice; the rows are one).
 */
export async function countsOfRun(d1: D1Database, source: string, runId: string) {
  const row = await d1
    .prepare(
      `SELECT count(*) AS listed, coalesce(sum(outcome IN ('webhook', 'held')), 0) AS received,
         coalesce(sum(outcome = 'reconcile'), 0) AS recovered, coalesce(sum(outcome = 'missing'), 0) AS missing
       FROM reconcile_events WHERE source = ?1 AND run_id = ?2`,
    )
    .bind(source, runId)
    .first<{ listed: number; received: number; recovered: number; missing: number }>();
  return row ?? { listed: 0, received: 0, recovered: 0, missing: 0 };
}

export interface SeenEvent {
  eventId: string;
  occurredAt: string;
  outcome: Outcome;
}

/**
 * After a page's missing events are on INGEST: the run's position, the events it listed and the
 * heartbeat, in one batch. Conditional on the state we loaded, so a retried message and its
 * continuation cannot both advance the run; false when we lost.
 */
export async function checkpoint(
  d1: D1Database,
  p: { source: string; runId: string; prevText: string; state: RunState; events: SeenEvent[]; now: Date },
): Promise<{ ok: boolean; text: string }> {
  const text = JSON.stringify(p.state);
  const nowIso = p.now.toISOString();
  const statements = [
    d1
      .prepare("UPDATE runs SET state = ?2, pages = ?3, records = ?4 WHERE id = ?1 AND status = 'running' AND state = ?5")
      .bind(p.runId, text, p.state.pages, p.state.recovered, p.prevText),
    d1.prepare("UPDATE reconcile_state SET heartbeat_at = ?3 WHERE source = ?1 AND active_run_id = ?2").bind(p.source, p.runId, nowIso),
  ];
  if (p.events.length > 0) {
    statements.push(
      d1
        .prepare(
          `INSERT INTO reconcile_events (source, event_id, occurred_at, outcome, run_id)
           SELECT ?1, value->>0, value->>1, value->>2, ?2 FROM json_each(?3) WHERE true
           ON CONFLICT (source, event_id) DO UPDATE SET outcome = excluded.outcome, run_id = excluded.run_id`,
        )
        .bind(p.source, p.runId, JSON.stringify(p.events.map((e) => [e.eventId, e.occurredAt, e.outcome]))),
    );
  }
  const [result] = await d1.batch(statements);
  return { ok: (result?.meta.changes ?? 0) > 0, text };
}

/** The ledger rows of the days a finished window touched, counted from every event ever listed for them. */
function ledgerStatements(
  d1: D1Database,
  source: string,
  runId: string,
  window: ReconcileWindow,
  nowIso: string,
  unit: "event" | "record",
): D1PreparedStatement[] {
  const what =
    unit === "record"
      ? "object version(s) listed by the vendor could not be recovered"
      : "event(s) listed by the vendor could not be recovered (no payload given)";
  return daysOf(window).flatMap((d) => {
    const covered = clip(window, d);
    return [
      d1
        .prepare(
          `INSERT INTO reconcile_ledger (source, day, expected, received, recovered, missing, window_from, window_to, run_id, status, detail, updated_at, unit)
           SELECT ?1, ?2, count(*), coalesce(sum(outcome IN ('webhook', 'held')), 0), coalesce(sum(outcome = 'reconcile'), 0),
                  coalesce(sum(outcome = 'missing'), 0), ?3, ?4, ?5, 'partial', NULL, ?6, ?9
           FROM reconcile_events WHERE source = ?1 AND occurred_at >= ?7 AND occurred_at < ?8
           ON CONFLICT (source, day) DO UPDATE SET
             expected = excluded.expected, received = excluded.received, recovered = excluded.recovered, missing = excluded.missing,
             window_from = CASE WHEN reconcile_ledger.window_from IS NULL THEN excluded.window_from
               WHEN excluded.window_from <= reconcile_ledger.window_to AND excluded.window_to >= reconcile_ledger.window_from
               THEN min(reconcile_ledger.window_from, excluded.window_from) ELSE reconcile_ledger.window_from END,
             window_to = CASE WHEN reconcile_ledger.window_to IS NULL THEN excluded.window_to
               WHEN excluded.window_from <= reconcile_ledger.window_to AND excluded.window_to >= reconcile_ledger.window_from
               THEN max(reconcile_ledger.window_to, excluded.window_to) ELSE reconcile_ledger.window_to END,
             run_id = excluded.run_id, updated_at = excluded.updated_at, unit = excluded.unit`,
        )
        .bind(source, d.day, covered.from, covered.to, runId, nowIso, d.start, d.end, unit),
      // Complete only when reconciled windows cover the whole day and nothing listed is missing.
      d1
        .prepare(
          `UPDATE reconcile_ledger SET
             status = CASE WHEN missing > 0 THEN 'incomplete'
               WHEN status = 'unrecoverable range' THEN status
               WHEN window_from <= ?3 AND window_to >= ?4 THEN 'complete' ELSE 'partial' END,
             detail = CASE WHEN missing > 0 THEN missing || ' ' || ?5
               WHEN status = 'unrecoverable range' THEN detail ELSE NULL END
           WHERE source = ?1 AND day = ?2`,
        )
        .bind(source, d.day, d.start, d.end, what),
    ];
  });
}

/** The webhook records written of each day a window touches (raw_objects: every source, whether its receipts are kept or not). */
async function webhookRecordsByDay(d1: D1Database, source: string, window: ReconcileWindow): Promise<number[]> {
  const days = daysOf(window);
  const counted = await webhookRecordsPerDay(d1, source, { since: days[0]?.day ?? window.from.slice(0, 10) });
  return days.map((d) => counted.get(d.day) ?? 0);
}

/** Days whose events came only by webhook, as far as we know: rows that say so, with what arrived (`received`, per day). */
function uncheckedDayStatements(
  d1: D1Database,
  source: string,
  runId: string,
  window: ReconcileWindow,
  status: "not reconcilable" | "unrecoverable range",
  detail: string,
  nowIso: string,
  received: readonly number[],
): D1PreparedStatement[] {
  return daysOf(window).map((d, i) =>
    d1
      .prepare(
        `INSERT INTO reconcile_ledger (source, day, expected, received, recovered, missing, window_from, window_to, run_id, status, detail, updated_at)
         VALUES (?1, ?2, NULL, ?7, NULL, NULL, NULL, NULL, ?3, ?4, ?5, ?6)
         ON CONFLICT (source, day) DO UPDATE SET
           received = CASE WHEN excluded.status = 'not reconcilable' THEN excluded.received ELSE reconcile_ledger.received END,
           status = excluded.status, detail = excluded.detail, run_id = excluded.run_id, updated_at = excluded.updated_at`,
      )
      .bind(source, d.day, runId, status, detail, nowIso, received[i] ?? 0),
  );
}

export interface Finish {
  source: string;
  runId: string;
  prevText: string;
  state: RunState;
  status: "succeeded" | "failed";
  error?: string;
  historyDays: number;
  now: Date;
  /** Nothing was asked (the window was empty): the run ends, the ledger and watermark stay as they are. */
  empty?: boolean;
}

/**
 * Ends a run in one batch. Succeeded: the run row, the ledger of every day the window touched
 * (and of an unrecoverable range), the watermark (only forward, and for an operator's window only
 * when it joins the reconciled range), the lock, and pruning of events beyond any window's reach.
 * Failed: the run row and the lock; the watermark stays, so the window is asked again next night.
 */
export async function finishRun(d1: D1Database, f: Finish): Promise<boolean> {
  const nowIso = f.now.toISOString();
  const { window } = f.state;
  const statements: D1PreparedStatement[] = [
    d1
      .prepare(
        `UPDATE runs SET status = ?2, finished_at = ?3, state = ?4, pages = ?5, records = ?6, error = ?7
         WHERE id = ?1 AND status = 'running' AND state = ?8`,
      )
      .bind(f.runId, f.status, nowIso, JSON.stringify(f.state), f.state.pages, f.state.recovered, f.error ?? null, f.prevText),
  ];
  if (f.status === "succeeded" && !f.empty) {
    const u = f.state.unrecoverable;
    if (u) {
      const detail = `${u.from} .. ${u.to} is older than the vendor's ${f.historyDays}-day history: events of that range that did not come by webhook cannot be recovered`;
      const received = await webhookRecordsByDay(d1, f.source, u);
      statements.push(...uncheckedDayStatements(d1, f.source, f.runId, u, "unrecoverable range", detail, nowIso, received));
      statements.push(
        d1
          .prepare("UPDATE reconcile_state SET unrecoverable_from = ?2, unrecoverable_to = ?3 WHERE source = ?1")
          .bind(f.source, u.from, u.to),
      );
    }
    statements.push(...ledgerStatements(d1, f.source, f.runId, window, nowIso, f.state.unit ?? "event"));
    const joinsAt = u ? u.from : window.from;
    statements.push(
      d1
        .prepare(
          `UPDATE reconcile_state SET reconciled_to = ?2
           WHERE source = ?1 AND (reconciled_to IS NULL OR (reconciled_to < ?2 AND (?4 = 0 OR reconciled_to >= ?3)))`,
        )
        .bind(f.source, window.to, joinsAt, f.state.requested ? 1 : 0),
    );
    const cutoff = new Date(f.now.getTime() - (f.historyDays + 2) * DAY_MS).toISOString();
    statements.push(
      d1
        .prepare(
          "DELETE FROM reconcile_events WHERE rowid IN (SELECT rowid FROM reconcile_events WHERE source = ?1 AND occurred_at < ?2 LIMIT 20000)",
        )
        .bind(f.source, cutoff),
    );
  }
  statements.push(
    d1
      .prepare(
        `UPDATE reconcile_state SET active_run_id = NULL, last_run_id = ?2, last_status = ?3, last_error = ?4,
           last_finished_at = ?5, updated_at = ?5 WHERE source = ?1 AND active_run_id = ?2`,
      )
      .bind(f.source, f.runId, f.status, f.error ?? null, nowIso),
  );
  const [result] = await d1.batch(statements);
  return (result?.meta.changes ?? 0) > 0;
}

/** Lets go of a source without a run (nothing to ask about yet), noting an unrecoverable range if there is one. */
export async function releaseSource(d1: D1Database, source: string, runId: string, now: Date): Promise<void> {
  await d1
    .prepare("UPDATE reconcile_state SET active_run_id = NULL, updated_at = ?3 WHERE source = ?1 AND active_run_id = ?2")
    .bind(source, runId, now.toISOString())
    .run();
}

/**
 * A source without a listing API: the days since it was last looked at get rows that say
 * "not reconcilable" with the reason and what came by webhook. Never complete.
 */
export async function recordNotReconcilable(d1: D1Database, source: string, reason: string, runId: string, now: Date): Promise<void> {
  const nowIso = now.toISOString();
  const last = await d1
    .prepare("SELECT last_finished_at FROM reconcile_state WHERE source = ?1")
    .bind(source)
    .first<{ last_finished_at: string | null }>();
  const from = last?.last_finished_at ?? new Date(now.getTime() - DAY_MS).toISOString();
  const window = { from, to: nowIso };
  const received = await webhookRecordsByDay(d1, source, window);
  await d1.batch([
    d1.prepare("INSERT OR IGNORE INTO reconcile_state (source, updated_at) VALUES (?1, ?2)").bind(source, nowIso),
    ...uncheckedDayStatements(d1, source, runId, window, "not reconcilable", `not reconcilable: ${reason}`, nowIso, received),
    d1
      .prepare(
        `UPDATE reconcile_state SET active_run_id = NULL, last_run_id = ?3, last_status = 'not reconcilable', last_error = ?4,
           last_finished_at = ?2, updated_at = ?2 WHERE source = ?1`,
      )
      .bind(source, nowIso, runId, reason),
  ]);
}

/** A window that was refused (too long for the vendor's history): visible in /status, the watermark untouched. */
export async function recordRefused(d1: D1Database, source: string, runId: string, error: string, now: Date): Promise<void> {
  await d1
    .prepare(
      `UPDATE reconcile_state SET active_run_id = NULL, last_run_id = ?2, last_status = 'refused', last_error = ?3,
         last_finished_at = ?4, updated_at = ?4 WHERE source = ?1 AND active_run_id = ?2`,
    )
    .bind(source, runId, error, now.toISOString())
    .run();
}
