/*
 * The next-best guard for a webhook source nobody can list: its own history. A day whose webhook
 * count falls well below the source's usual volume is flagged (an endpoint that stopped receiving,
 * a sender that gave up), which is all a receiver can know without a listing.
 */

/** A day is flagged below this share of the median of the days before it. */
export const LOW_VOLUME_SHARE = 0.3;
/** How many days before it form the usual volume. */
export const TRAILING_DAYS = 7;
/** Fewer days of history than this say nothing yet. */
export const MIN_HISTORY_DAYS = 3;

export interface VolumeCheck {
  day: string;
  received: number;
  /** The median of the trailing days' counts. */
  median: number;
  /** received / median (null when the median is 0). */
  share: number | null;
  flagged: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The newest whole day before `today` (UTC, YYYY-MM-DD) against the median of the up to 7 days
 * before it; null without that day or with fewer than 3 days of history. Days absent from `days`
 * were never counted and are left out (a day counted with no webhooks is there with 0).
 */
export function volumeCheck(days: readonly { day: string; received: number | null }[], today: string): VolumeCheck | null {
  const counted = days.filter((d) => d.received !== null && d.day < today).sort((a, b) => (a.day < b.day ? 1 : -1));
  const [latest, ...before] = counted;
  if (!latest) return null;
  const trailing = before
    .filter((d) => Date.parse(latest.day) - Date.parse(d.day) <= TRAILING_DAYS * 86_400_000)
    .map((d) => d.received as number);
  if (trailing.length < MIN_HISTORY_DAYS) return null;
  const m = median(trailing);
  const received = latest.received as number;
  return { day: latest.day, received, median: m, share: m > 0 ? received / m : null, flagged: m > 0 && received < LOW_VOLUME_SHARE * m };
}
