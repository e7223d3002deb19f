/*
 * The volume guard for the part of a reconcilable source that no listing covers (Meta's feed,
 * Page-field and messaging notifications beside its listed leads; Amplitude events without uuid):
 * the webhook records it wrote per UTC day in streams outside its tracked object streams, judged
 * against their own trailing median like a source nobody can list (volume.ts).
 *
 * Counted from D1's raw_objects (webhook-records.ts): nothing is added to the write path, and no
 * nightly run has to succeed for the days to be counted.
 */

import { webhookRecordsPerDay } from "./webhook-records";
import { DAY_MS } from "./window";
import { type VolumeCheck, TRAILING_DAYS, volumeCheck } from "./volume";

/** What the status page says of a source's unlisted webhooks: what they are, and yesterday against their median. */
export interface UnlistedVolume {
  what: string;
  volume: VolumeCheck | null;
}

/**
 * Webhook records written per UTC day of receipt since `since` (YYYY-MM-DD) in the source's streams other
 * than `listed`. Days from the first one with any such record up to yesterday are all present, a
 * day without any as 0 (an endpoint that stopped receiving is the case the guard is for).
 */
export async function unlistedDays(
  d1: D1Database,
  source: string,
  listed: readonly string[],
  since: string,
  today: string,
): Promise<{ day: string; received: number }[]> {
  const counted = await webhookRecordsPerDay(d1, source, { except: listed, since });
  const first = [...counted.keys()].sort()[0];
  if (!first) return [];
  const days: { day: string; received: number }[] = [];
  for (let t = Date.parse(`${first}T00:00:00.000Z`); ; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    if (day >= today) break;
    days.push({ day, received: counted.get(day) ?? 0 });
  }
  return days;
}

/** A source's unlisted webhooks: yesterday's count against the median of the days before it (flagged below 30%). */
export async function unlistedVolume(
  d1: D1Database,
  source: string,
  listed: readonly string[],
  what: string,
  now: Date,
): Promise<UnlistedVolume> {
  const today = now.toISOString().slice(0, 10);
  const since = new Date(Date.parse(`${today}T00:00:00.000Z`) - (TRAILING_DAYS + 1) * DAY_MS).toISOString().slice(0, 10);
  return { what, volume: volumeCheck(await unlistedDays(d1, source, listed, since, today), today) };
}
