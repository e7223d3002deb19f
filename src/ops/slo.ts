/** The patterns a stream's freshness is judged by. */
export type FreshnessPattern = "webhook" | "poll" | "full_refresh" | "file" | "cdc";

/** Defaults per pattern (docs/operations.md): minutes of silence before a stream is late. */
export const DEFAULT_SILENCE_MINUTES: Record<FreshnessPattern, number> = {
  webhook: 60,
  poll: 30, // 2 × the default 15-minute interval; a declared interval overrides it (pollSlo)
  full_refresh: 2 * 24 * 60, // two nightly runs
  file: 2 * 24 * 60,
  cdc: 5,
};
export const DEFAULT_ZERO_RECORD_RUNS = 3;

/** Late beyond the SLO; stale beyond this many times the SLO. */
export const STALE_FACTOR = 2;

export interface Slo {
  maxSilenceMinutes: number;
  zeroRecordRuns: number;
  /** "declared" when a stream_slos row set it, else the pattern's default. */
  origin: "declared" | "default";
}

export function pollSloMinutes(intervalMinutes: number | undefined): number {
  return 2 * (intervalMinutes && intervalMinutes > 0 ? intervalMinutes : 15);
}

export function defaultSlo(pattern: FreshnessPattern, intervalMinutes?: number): Slo {
  const maxSilenceMinutes = pattern === "poll" ? pollSloMinutes(intervalMinutes) : DEFAULT_SILENCE_MINUTES[pattern];
  return { maxSilenceMinutes, zeroRecordRuns: DEFAULT_ZERO_RECORD_RUNS, origin: "default" };
}
