import { asc, desc } from "drizzle-orm";
import { database } from "../db/client";
import { runs, streamStats } from "../db/schema";
import { fleetStatus } from "../ops/fleet";
import { reconciliationStatus } from "../reconcile/status";
import type { SourceDefinition } from "../sources/define-source";

export interface StreamStatus {
  source: string;
  stream: string;
  records: number;
  objects: number;
  bytes: number;
  first_received_at: string;
  last_received_at: string;
  last_written_at: string;
}

/**
 * What every stream has brought so far, and when it last did — plus the freshness answer
 * (`ok`, `problems`, `streams` with their state, `sidecars`, `dlq`, `gaps`; see src/ops/fleet.ts).
 */
export async function streamStatus(d1: D1Database, sources: readonly SourceDefinition[] = [], now = new Date()) {
  const db = database(d1);
  const [streams, recentRuns] = await db.batch([
    db.select().from(streamStats).orderBy(asc(streamStats.source), asc(streamStats.stream)),
    db.select().from(runs).orderBy(desc(runs.startedAt)).limit(20),
  ]);
  const bySource = new Map<string, { source: string; records: number; last_received_at: string; streams: StreamStatus[] }>();
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
  const fleet = await fleetStatus(d1, sources, now);
  // Reconciliation: per webhook source, the watermark, the last run and the completeness ledger per day.
  const reconciliation = await reconciliationStatus(d1, sources, now);
  return { ...fleet, generated_at: now.toISOString(), sources: [...bySource.values()], recent_runs: recentRuns, reconciliation };
}
