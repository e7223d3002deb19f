import { database } from "../db/client";
import { pollSchedule } from "../db/schema";
import { InvalidSetting } from "./not-configured";
import { dueRows, type RunPattern } from "./run-store";
import { baseUrlOf, newRunId, type PollJob } from "./run-poll";
import type { PollSource } from "./types";
import { failUnconfiguredStreams } from "./unconfigured-streams";
import { and, eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";

/**
 * Streams of sources that can be polled here: a base URL that depends on an unset env var means
 * "not configured" (skipped); one that is set but is not a URL is scheduled, so its runs fail saying so.
 */
function pollable(sources: readonly PollSource[], env: Record<string, unknown>) {
  return sources
    .filter((source) => configured(source, env))
    .flatMap((source) => (source.streams ?? []).map((stream) => ({ source, stream })));
}

function configured(source: PollSource, env: Record<string, unknown>): boolean {
  try {
    return !!baseUrlOf(source, env);
  } catch (err) {
    return err instanceof InvalidSetting;
  }
}

/**
 * The tick's work: every stream with an interval gets a schedule row (due at once when new), and
 * every due stream that no live run holds gets one poll job. A scheduled stream whose source is no
 * longer configured gets a failed run saying what to set (failUnconfiguredStreams). The row's due time moves forward
 * here, so overlapping ticks do not send twice; the job's run claims the stream for itself.
 */
export async function duePollJobs(
  d1: D1Database,
  sources: readonly PollSource[],
  env: Record<string, unknown>,
  now: Date,
): Promise<PollJob[]> {
  const db = database(d1);
  await failUnconfiguredStreams(d1, sources, env, (source) => configured(source, env), now);
  const streams = pollable(sources, env).filter(({ stream }) => (stream.intervalMinutes ?? 15) > 0);
  if (streams.length === 0) return [];
  const nowIso = now.toISOString();
  const inserts = streams.map(({ source, stream }) =>
    db.insert(pollSchedule).values({ source: source.name, stream: stream.name, pattern: "poll", nextDueAt: nowIso }).onConflictDoNothing(),
  );
  await db.batch(inserts as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  const due = new Set((await dueRows(d1, "poll", now)).map((r) => `${r.source}\n${r.stream}`));
  const picked = streams.filter(({ source, stream }) => due.has(`${source.name}\n${stream.name}`));
  if (picked.length === 0) return [];
  const moves = picked.map(({ source, stream }) =>
    db
      .update(pollSchedule)
      .set({ nextDueAt: new Date(now.getTime() + (stream.intervalMinutes ?? 15) * 60_000).toISOString() })
      .where(and(eq(pollSchedule.source, source.name), eq(pollSchedule.stream, stream.name), eq(pollSchedule.pattern, "poll"))),
  );
  await db.batch(moves as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  return picked.map(({ source, stream }) => job("poll", source.name, stream.name, now));
}

/** The nightly run's full refreshes: one job per stream declared `fullRefresh`. */
export function fullRefreshJobs(sources: readonly PollSource[], env: Record<string, unknown>, now: Date): PollJob[] {
  return pollable(sources, env)
    .filter(({ stream }) => stream.fullRefresh)
    .map(({ source, stream }) => job("full_refresh", source.name, stream.name, now));
}

function job(kind: RunPattern, source: string, stream: string, now: Date): PollJob {
  return { kind, source, stream, run_id: newRunId(kind, now) };
}
