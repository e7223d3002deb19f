import { type FreshnessPattern, type Slo, STALE_FACTOR } from "./slo";

export const STATES = ["failing", "stale", "zero-record", "late", "paused", "fresh"] as const;
export type StreamState = (typeof STATES)[number];

/** What the freshness judgement needs to know about one stream; every time an ISO string or null. */
export interface StreamFacts {
  pattern: FreshnessPattern;
  /**
   * What freshness is measured by: the last record (webhooks, and streams nothing schedules),
   * the last successful run (scheduled polls, refreshes, files) or the sidecar heartbeat (CDC).
   * Defaults by pattern.
   */
  basis?: "records" | "runs" | "heartbeat";
  slo: Slo;
  paused: boolean;
  lastReceivedAt: string | null;
  /** Finished runs, newest first (poll, full refresh, file). */
  recentRuns: { status: string; records: number; finishedAt: string | null; error: string | null }[];
  /** The error the live (running) run's last job attempt failed with, while the queue retries it; null when none. */
  liveRunError?: string | null;
  /** Webhook streams: whether the stream usually brings records (see isUsuallyBusy). */
  usuallyBusy: boolean;
  /** CDC: the sidecar's last health report for the stream's source, if any. */
  sidecar?: { heartbeatAt: string | null; reportedAt: string; walStatus: string | null; state: string | null; error: string | null } | null;
}

export interface Judgement {
  state: StreamState;
  /** Seconds since the reference event (last record, last successful run or heartbeat); null when never. */
  lagSeconds: number | null;
  sloSeconds: number;
  reason: string;
}

const seconds = (now: Date, iso: string | null) => (iso ? Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000)) : null);

/** The time a stream's freshness is measured from, by pattern. */
export function basisOf(f: StreamFacts): "records" | "runs" | "heartbeat" {
  return f.basis ?? (f.pattern === "webhook" ? "records" : f.pattern === "cdc" ? "heartbeat" : "runs");
}

function referenceTime(f: StreamFacts): { at: string | null; what: string } {
  const basis = basisOf(f);
  if (basis === "records") return { at: f.lastReceivedAt, what: "last record" };
  if (basis === "heartbeat") {
    const at = f.sidecar?.heartbeatAt ?? null;
    return at ? { at, what: "sidecar heartbeat" } : { at: f.lastReceivedAt, what: "last record" };
  }
  const ok = f.recentRuns.find((r) => r.status === "succeeded");
  return { at: ok?.finishedAt ?? null, what: "last successful run" };
}

/** Empty succeeded runs at the head of the history, and whether the runs before them usually brought records. */
function zeroRecordStreak(f: StreamFacts): boolean {
  const n = f.slo.zeroRecordRuns;
  const finished = f.recentRuns.filter((r) => r.status === "succeeded");
  if (finished.length <= n) return false;
  if (!finished.slice(0, n).every((r) => r.records === 0)) return false;
  const before = finished.slice(n);
  return before.filter((r) => r.records > 0).length * 2 >= before.length;
}

/**
 * The state of one stream, in priority order: paused, failing, zero-record, stale, late, fresh.
 * Pure: the same facts and clock give the same answer, which is what the tests pin down. A live run
 * whose job keeps failing changes no state (its lag does), but its error leads the reason: it is
 * why the stream is stuck, and nothing else on the stream says so until the run is abandoned.
 */
export function judgeStream(f: StreamFacts, now: Date): Judgement {
  const j = judgeByFacts(f, now);
  if (!f.liveRunError || j.state === "paused" || j.state === "failing") return j;
  return { ...j, reason: `the running run's job keeps failing and is being retried: ${f.liveRunError}; ${j.reason}` };
}

function judgeByFacts(f: StreamFacts, now: Date): Judgement {
  const sloSeconds = f.slo.maxSilenceMinutes * 60;
  const ref = referenceTime(f);
  const lagSeconds = seconds(now, ref.at);
  const base = { lagSeconds, sloSeconds };
  if (f.paused) return { ...base, state: "paused", reason: "source paused by an admin" };

  const last = f.recentRuns[0];
  if (last?.status === "failed") {
    const streak = f.recentRuns.findIndex((r) => r.status !== "failed");
    const count = streak === -1 ? f.recentRuns.length : streak;
    return { ...base, state: "failing", reason: `${count} failed run(s) in a row: ${last.error ?? "no error text"}` };
  }
  if (f.pattern === "cdc" && f.sidecar) {
    if (f.sidecar.walStatus === "lost") return { ...base, state: "failing", reason: "replication slot lost its WAL (wal_status lost)" };
    if (f.sidecar.state === "failed") return { ...base, state: "failing", reason: `sidecar failed: ${f.sidecar.error ?? "no error text"}` };
  }
  if (zeroRecordStreak(f)) {
    return {
      ...base,
      state: "zero-record",
      reason: `the last ${f.slo.zeroRecordRuns} runs succeeded with 0 records; this stream usually brings records`,
    };
  }
  // A quiet webhook stream is silent because nothing happened: silence only counts on a busy one.
  const byRecords = basisOf(f) === "records";
  if (byRecords && !f.usuallyBusy) return { ...base, state: "fresh", reason: "quiet stream: silence is normal" };
  if (lagSeconds === null) {
    if (byRecords) return { ...base, state: "fresh", reason: "no record yet" };
    return { ...base, state: "late", reason: `no ${ref.what} yet` };
  }
  if (lagSeconds > sloSeconds * STALE_FACTOR)
    return { ...base, state: "stale", reason: `${ref.what} ${human(lagSeconds)} ago (SLO ${human(sloSeconds)})` };
  if (lagSeconds > sloSeconds) return { ...base, state: "late", reason: `${ref.what} ${human(lagSeconds)} ago (SLO ${human(sloSeconds)})` };
  return { ...base, state: "fresh", reason: `${ref.what} ${human(lagSeconds)} ago` };
}

/** A webhook stream is usually busy when it brought records in at least a quarter of the hours of the last week. */
export function isUsuallyBusy(hoursWithRecords: number, hoursObserved = 7 * 24): boolean {
  return hoursWithRecords * 4 >= hoursObserved;
}

export function human(s: number): string {
  if (s < 90) return `${s}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.round(s / 360) / 10}h`;
  return `${Math.round(s / 8640) / 10}d`;
}
