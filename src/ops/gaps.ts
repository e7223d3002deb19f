/** A day on which reconciliation found vendor events that never reached the raw zone. */
export interface ReconciliationGap {
  source: string;
  stream: string | null;
  day: string;
  missing: number;
  status: string;
  detail: string | null;
}

const GAP_DAYS = 30;

/**
 * Open reconciliation gaps of the last 30 days, from the reconciler's completeness ledger
 * (reconcile_ledger, migrations/0004): days with events still missing, or judged incomplete or
 * unrecoverable. `partial` days (not fully covered by reconciled windows yet) are not gaps.
 * Answers an empty list when the ledger does not exist, so operations never depends on it.
 */
export async function reconciliationGaps(d1: D1Database, now = new Date()): Promise<ReconciliationGap[]> {
  const exists = await d1.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reconcile_ledger'").first();
  if (!exists) return [];
  const since = new Date(now.getTime() - GAP_DAYS * 86_400_000).toISOString().slice(0, 10);
  const rows = await d1
    .prepare(
      `SELECT source, day, coalesce(missing, 0) AS missing, status, detail FROM reconcile_ledger
       WHERE day >= ?1 AND (coalesce(missing, 0) > 0 OR status IN ('incomplete', 'unrecoverable range'))
       ORDER BY source, day`,
    )
    .bind(since)
    .all<{ source: string; day: string; missing: number; status: string; detail: string | null }>();
  return rows.results.map((r) => ({
    source: r.source,
    stream: null,
    day: r.day,
    missing: Number(r.missing),
    status: r.status,
    detail: r.detail,
  }));
}
