import type { SourceDefinition } from "../sources/define-source";
import { reconciliationGaps } from "./gaps";
import { notConfiguredSources } from "./not-configured-sources";
import { type FreshnessPattern, defaultSlo, type Slo } from "./slo";
import { isUsuallyBusy, judgeStream, type StreamFacts } from "./states";
import { type SidecarReport, sidecarCondition } from "./sidecar-health";
import type { FleetStatus, RunSummary, SidecarHealthView, StreamHealth } from "./status-schema";

export const HOURS = 7 * 24;
const RUNS_PER_STREAM = 20;

export type { FleetStatus, NotConfiguredSource, RunSummary, SidecarHealthView, StreamHealth } from "./status-schema";

type Row = Record<string, unknown>;
const key = (source: string, stream: string) => `${source}\n${stream}`;

/** The pattern a stream is judged by: what the sources declare, else what its runs and objects say. */
function patternOf(
  source: string,
  stream: string,
  defs: Map<string, SourceDefinition>,
  cdcSources: Set<string>,
  runPattern: string | undefined,
  objectPattern: string | undefined,
): { pattern: FreshnessPattern; interval?: number } {
  if (cdcSources.has(source)) return { pattern: "cdc" };
  const def = defs.get(source);
  const polled = def?.streams?.find((s) => s.name === stream);
  if (polled) {
    const interval = polled.intervalMinutes ?? 15;
    if (interval > 0) return { pattern: "poll", interval };
    if (polled.fullRefresh) return { pattern: "full_refresh" };
    // On demand only (run now / backfill): nothing schedules it, so what it received is its freshness.
  }
  for (const p of [runPattern, objectPattern]) {
    if (p === "poll" || p === "full_refresh" || p === "file" || p === "cdc" || p === "webhook") return { pattern: p };
  }
  return { pattern: "webhook" };
}

/**
 * "Is everything fine?" — one D1 batch, judged per stream. Used by GET /status, the status page,
 * the CLI and the alerts, so they can never disagree. Given the Worker's env, it also says which
 * sources cannot run here and what to set (`not_configured`).
 */
export async function fleetStatus(
  d1: D1Database,
  sources: readonly SourceDefinition[],
  now = new Date(),
  env?: Record<string, unknown>,
): Promise<FleetStatus> {
  const since30d = new Date(now.getTime() - 30 * 86_400_000).toISOString();
  const hourStart = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  const firstHour = hourStart.getTime() - (HOURS - 1) * 3_600_000;
  const [stats, runRows, hourly, slos, controls, sidecars, dead, schedules] = await d1.batch<Row>([
    d1.prepare("SELECT source, stream, records, first_received_at, last_received_at FROM stream_stats"),
    d1
      .prepare(
        `SELECT * FROM (
           SELECT id, source, stream, pattern, status, started_at, finished_at, records, error,
                  row_number() OVER (PARTITION BY source, stream ORDER BY started_at DESC) AS rn
           FROM runs WHERE started_at >= ?1 AND pattern != 'reconcile')
         WHERE rn <= ?2 ORDER BY source, stream, started_at DESC`,
      )
      .bind(since30d, RUNS_PER_STREAM),
    d1
      .prepare(
        // Driven by stream_stats so each stream's range is read through raw_objects_stream_time.
        `SELECT r.source, r.stream, substr(r.written_at, 1, 13) AS hour, sum(r.records) AS records, max(r.pattern) AS pattern
         FROM stream_stats s CROSS JOIN raw_objects r ON r.source = s.source AND r.stream = s.stream AND r.written_at >= ?1
         GROUP BY r.source, r.stream, hour`,
      )
      .bind(new Date(firstHour).toISOString()),
    d1.prepare("SELECT source, stream, max_silence_minutes, zero_record_runs FROM stream_slos"),
    d1.prepare("SELECT source FROM source_controls WHERE paused = 1"),
    d1.prepare("SELECT * FROM sidecar_health ORDER BY source, slot"),
    d1.prepare("SELECT queue, source, stream, count(*) AS n FROM dead_letters WHERE redriven_at IS NULL GROUP BY queue, source, stream"),
    // The poll engine's schedule rows: a stream configured (and so promised) to run.
    d1.prepare("SELECT DISTINCT source, stream FROM poll_schedule"),
  ]);
  const defs = new Map(sources.map((s) => [s.name, s]));
  const paused = new Set((controls?.results ?? []).map((r) => String(r.source)));
  const sidecarRows = (sidecars?.results ?? []).map(toSidecarReport);
  const cdcSources = new Set(sidecarRows.map((s) => s.source));

  const names = new Map<string, { source: string; stream: string }>();
  const add = (source: string, stream: string) => names.set(key(source, stream), { source, stream });
  for (const r of stats?.results ?? []) add(String(r.source), String(r.stream));
  const scheduled = new Set((schedules?.results ?? []).map((r) => key(String(r.source), String(r.stream))));
  for (const r of schedules?.results ?? []) add(String(r.source), String(r.stream));
  for (const r of runRows?.results ?? []) add(String(r.source), String(r.stream));
  for (const r of slos?.results ?? []) add(String(r.source), String(r.stream));

  const statBy = new Map((stats?.results ?? []).map((r) => [key(String(r.source), String(r.stream)), r]));
  const sloBy = new Map((slos?.results ?? []).map((r) => [key(String(r.source), String(r.stream)), r]));
  const runsBy = new Map<string, RunSummary[]>();
  for (const r of runRows?.results ?? []) {
    const k = key(String(r.source), String(r.stream));
    const list = runsBy.get(k) ?? [];
    list.push({
      id: String(r.id),
      status: String(r.status),
      pattern: String(r.pattern),
      started_at: String(r.started_at),
      finished_at: (r.finished_at as string | null) ?? null,
      records: Number(r.records ?? 0),
      error: (r.error as string | null) ?? null,
    });
    runsBy.set(k, list);
  }
  const hoursBy = new Map<string, { counts: number[]; pattern?: string }>();
  for (const r of hourly?.results ?? []) {
    const k = key(String(r.source), String(r.stream));
    const entry = hoursBy.get(k) ?? { counts: new Array<number>(HOURS).fill(0) };
    const index = Math.round((Date.parse(`${String(r.hour)}:00:00Z`) - firstHour) / 3_600_000);
    if (index >= 0 && index < HOURS) entry.counts[index] = (entry.counts[index] ?? 0) + Number(r.records ?? 0);
    entry.pattern = String(r.pattern);
    hoursBy.set(k, entry);
  }
  const dlq: Record<string, number> = { ingest: 0, jobs: 0, files: 0 };
  const dlqBy = new Map<string, number>();
  for (const r of dead?.results ?? []) {
    const n = Number(r.n ?? 0);
    dlq[String(r.queue)] = (dlq[String(r.queue)] ?? 0) + n;
    if (r.source && r.stream) dlqBy.set(key(String(r.source), String(r.stream)), n);
  }

  const streams: StreamHealth[] = [];
  for (const [k, { source, stream }] of [...names.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const stat = statBy.get(k);
    const runList = runsBy.get(k) ?? [];
    const finished = runList.filter((r) => r.status === "succeeded" || r.status === "failed");
    const hours = hoursBy.get(k);
    const { pattern, interval } = patternOf(source, stream, defs, cdcSources, runList[0]?.pattern, hours?.pattern);
    const declared = sloBy.get(k);
    // Judged by its runs only when something runs it: it has runs, or the scheduler holds a row for it.
    const runBased = pattern === "poll" || pattern === "full_refresh" || pattern === "file";
    const byRecords = runBased && runList.length === 0 && !scheduled.has(k);
    const slo: Slo = declared
      ? { maxSilenceMinutes: Number(declared.max_silence_minutes), zeroRecordRuns: Number(declared.zero_record_runs), origin: "declared" }
      : defaultSlo(byRecords ? "webhook" : pattern, interval);
    const lastReceivedAt = stat ? String(stat.last_received_at) : null;
    const counts = hours?.counts ?? new Array<number>(HOURS).fill(0);
    const firstSeen = stat ? Date.parse(String(stat.first_received_at)) : now.getTime();
    const observed = Math.min(HOURS, Math.max(1, Math.ceil((now.getTime() - firstSeen) / 3_600_000)));
    const facts: StreamFacts = {
      pattern,
      basis: byRecords ? "records" : undefined,
      slo,
      paused: paused.has(source),
      lastReceivedAt,
      recentRuns: finished.map((r) => ({ status: r.status, records: r.records, finishedAt: r.finished_at, error: r.error })),
      liveRunError: runList[0]?.status === "running" ? runList[0].error : null,
      usuallyBusy: isUsuallyBusy(counts.filter((c) => c > 0).length, observed),
      sidecar: pattern === "cdc" ? (sidecarRows.find((s) => s.source === source) ?? null) : null,
    };
    const j = judgeStream(facts, now);
    streams.push({
      source,
      stream,
      pattern,
      state: j.state,
      reason: j.reason,
      lag_seconds: j.lagSeconds,
      slo_seconds: j.sloSeconds,
      slo_origin: slo.origin,
      zero_record_runs: slo.zeroRecordRuns,
      paused: facts.paused,
      records_total: stat ? Number(stat.records) : 0,
      last_received_at: lastReceivedAt,
      last_run: runList[0] ?? null,
      last_success_at: finished.find((r) => r.status === "succeeded")?.finished_at ?? null,
      run_records: finished.map((r) => r.records),
      dlq: dlqBy.get(k) ?? 0,
      records_per_hour: counts,
    });
  }

  const sidecarViews = sidecarRows.map((s) => sidecarView(s, now));
  const gaps = await reconciliationGaps(d1);
  const problems = [
    ...streams.filter((s) => s.state !== "fresh" && s.state !== "paused").map((s) => `${s.source}.${s.stream} is ${s.state}: ${s.reason}`),
    ...sidecarViews.filter((s) => s.condition !== "ok").map((s) => `sidecar ${s.source}/${s.slot}: ${s.reason}`),
    ...Object.entries(dlq)
      .filter(([, n]) => n > 0)
      .map(([q, n]) => `${n} message(s) parked from the ${q} queue's DLQ`),
    ...gaps.map((g) => `${g.source}${g.stream ? `.${g.stream}` : ""} on ${g.day}: ${g.missing} missing (${g.status})`),
  ];
  return {
    ok: problems.length === 0,
    generated_at: now.toISOString(),
    problems,
    streams,
    sidecars: sidecarViews,
    dlq,
    gaps,
    not_configured: env ? notConfiguredSources(sources, env) : [],
  };
}

function sidecarView(s: SidecarReport, now: Date): SidecarHealthView {
  return {
    source: s.source,
    slot: s.slot,
    ...sidecarCondition(s, now),
    state: s.state,
    slot_lag_bytes: s.slotLagBytes,
    wal_status: s.walStatus,
    safe_wal_size: s.safeWalSize,
    heartbeat_at: s.heartbeatAt,
    durable_lsn: s.durableLsn,
    error: s.error,
    reported_at: s.reportedAt,
  };
}

function toSidecarReport(r: Row): SidecarReport {
  return {
    source: String(r.source),
    slot: String(r.slot),
    state: (r.state as string | null) ?? null,
    slotLagBytes: r.slot_lag_bytes === null || r.slot_lag_bytes === undefined ? null : Number(r.slot_lag_bytes),
    walStatus: (r.wal_status as string | null) ?? null,
    safeWalSize: r.safe_wal_size === null || r.safe_wal_size === undefined ? null : Number(r.safe_wal_size),
    heartbeatAt: (r.heartbeat_at as string | null) ?? null,
    durableLsn: (r.durable_lsn as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    reportedAt: String(r.reported_at),
  };
}
