import { asc, desc } from "drizzle-orm";
import { database } from "../db/client";
import { runs, streamStats } from "../db/schema";
import { fleetStatus } from "../ops/fleet";
import { reconciliationStatus } from "../reconcile/status";
import type { SourceDefinition } from "../sources/define-source";
import type { StatusResponse } from "../ops/status-schema";

/**
 * GET /status: what every stream has brought so far, and when it last did — plus the freshness
 * answer (`ok`, `problems`, `streams` with their state, `sidecars`, `dlq`, `gaps`, `not_configured`;
 * see src/ops/fleet.ts). Its shape is src/ops/status-schema.ts: snake_case, no internal state.
 */
export async function streamStatus(
  d1: D1Database,
  sources: readonly SourceDefinition[] = [],
  now = new Date(),
  env?: Record<string, unknown>,
): Promise<StatusResponse> {
  const db = database(d1);
  const [streams, recentRuns] = await db.batch([
    db.select().from(streamStats).orderBy(asc(streamStats.source), asc(streamStats.stream)),
    // What an operator reads of a run; its state (page tokens, job ids) and cursors stay inside.
    db
      .select({
        id: runs.id,
        source: runs.source,
        stream: runs.stream,
        pattern: runs.pattern,
        status: runs.status,
        started_at: runs.startedAt,
        finished_at: runs.finishedAt,
        records: runs.records,
        error: runs.error,
      })
      .from(runs)
      .orderBy(desc(runs.startedAt))
      .limit(20),
  ]);
  const bySource = new Map<string, StatusResponse["sources"][number]>();
  for (const s of streams) {
    const entry = bySource.get(s.source) ?? { source: s.source, records: 0, last_received_at: "", streams: [] };
    entry.records += s.records;
    if (s.lastReceivedAt > entry.last_received_at) entry.last_received_at = s.lastReceivedAt;
    entry.streams.push({
      source: s.source,
      stream: s.stream,
      records: s.records,
      objects: s.objects,
      bytes: s.bytes,
      first_received_at: s.firstReceivedAt,
      last_received_at: s.lastReceivedAt,
      last_written_at: s.lastWrittenAt,
    });
    bySource.set(s.source, entry);
  }
  const fleet = await fleetStatus(d1, sources, now, env);
  // Reconciliation: per webhook source, the watermark, the last run and the completeness ledger per day.
  const reconciliation = await reconciliationStatus(d1, sources, now);
  return { ...fleet, generated_at: now.toISOString(), sources: [...bySource.values()], recent_runs: recentRuns, reconciliation };
}
