import { and, eq, isNull, ne, or } from "drizzle-orm";
import { database } from "../db/client";
import { pollSchedule, runs } from "../db/schema";
import { log, redact } from "../lib/log";
import { configurationProblem } from "./configuration";
import { newRunId } from "./run-poll";
import type { RunPattern } from "./run-store";
import type { PollSource } from "./types";

/**
 * Streams the scheduler once promised to run (they hold a schedule row) whose source is no longer
 * configured here — a secret deleted, a variable renamed. The scheduler skips them, so without this
 * they would only go stale with no reason given. Each gets one failed run saying what to set (seen
 * in `dock runs`, on the status page and by the alerts), and no other while the reason stays the
 * same; once the source is configured again its stream runs when due, as before.
 */
export async function failUnconfiguredStreams(
  d1: D1Database,
  sources: readonly PollSource[],
  env: Record<string, unknown>,
  configured: (source: PollSource) => boolean,
  now: Date,
): Promise<number> {
  const waiting = sources
    .filter((source) => !configured(source))
    .flatMap((source) => {
      const problem = configurationProblem(source, env);
      if (!problem) return [];
      const error = redact(problem.error).slice(0, 2000);
      return (source.streams ?? []).flatMap((stream) => {
        const patterns: RunPattern[] = [];
        if ((stream.intervalMinutes ?? 15) > 0) patterns.push("poll");
        if (stream.fullRefresh) patterns.push("full_refresh");
        return patterns.map((pattern) => ({ source: source.name, stream: stream.name, pattern, error }));
      });
    });
  if (waiting.length === 0) return 0;
  const db = database(d1);
  const nowIso = now.toISOString();
  let failed = 0;
  for (const w of waiting) {
    const runId = newRunId(w.pattern, now);
    // Only a free stream whose last word is not already this reason; the row's due time stays as it is.
    const marked = await db
      .update(pollSchedule)
      .set({ lastRunId: runId, lastStatus: "failed", lastFinishedAt: nowIso, lastError: w.error })
      .where(
        and(
          eq(pollSchedule.source, w.source),
          eq(pollSchedule.stream, w.stream),
          eq(pollSchedule.pattern, w.pattern),
          isNull(pollSchedule.activeRunId),
          or(isNull(pollSchedule.lastError), ne(pollSchedule.lastError, w.error)),
        ),
      )
      .run();
    if ((marked.meta.changes ?? 0) === 0) continue;
    await db
      .insert(runs)
      .values({
        id: runId,
        source: w.source,
        stream: w.stream,
        pattern: w.pattern,
        status: "failed",
        startedAt: nowIso,
        finishedAt: nowIso,
        error: w.error,
      })
      .onConflictDoNothing();
    log("error", { event: "poll.failed", source: w.source, stream: w.stream, pattern: w.pattern, run_id: runId, error: w.error });
    failed++;
  }
  return failed;
}
