import { and, eq, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { database } from "../db/client";
import { cursors, pollSchedule, runs } from "../db/schema";
import type { NextPage } from "./types";

export type RunPattern = "poll" | "full_refresh";

/** Everything a run needs to continue in another invocation, kept in `runs.state`. */
export interface RunState {
  v: 1;
  /** The stored cursor when the run started (the request's overlap starts there). */
  cursorFrom: string | null;
  /** What the cursors table holds as far as this run knows (moves at checkpoints of ascending streams). */
  cursorStored: string | null;
  /** The highest cursor seen so far. */
  cursorMax: string | null;
  /** Where the next page is: absent before the first page. */
  next?: Exclude<NextPage, null>;
  pages: number;
  records: number;
  /** Snapshot parts assigned so far (full refresh). */
  parts: number;
  retriesLeft: number;
  /** Hashes of the last page tokens followed, to catch a vendor that sends us round in circles. */
  seen: string[];
  lastPageHash?: string;
  emptyStreak: number;
  /** Stepped streams: the state their last step left (JSON). */
  custom?: unknown;
}

export interface StoredRun {
  id: string;
  status: string;
  state: RunState;
  stateText: string;
}

/** A run whose heartbeat is older than this is considered dead, and its stream free again. */
export const STALE_AFTER_MS = 30 * 60_000;

export async function loadRun(d1: D1Database, id: string): Promise<StoredRun | null> {
  const row = await database(d1).select({ id: runs.id, status: runs.status, state: runs.state }).from(runs).where(eq(runs.id, id)).get();
  if (!row) return null;
  return { id: row.id, status: row.status, state: JSON.parse(row.state ?? "{}") as RunState, stateText: row.state ?? "" };
}

/**
 * Takes the stream for a new run: the schedule row must be free, or held by a run whose heartbeat
 * stopped (that run is marked failed). Returns false when another live run holds it.
 */
export async function claimStream(
  d1: D1Database,
  source: string,
  stream: string,
  pattern: RunPattern,
  runId: string,
  now: Date,
): Promise<boolean> {
  const db = database(d1);
  const nowIso = now.toISOString();
  const key = and(eq(pollSchedule.source, source), eq(pollSchedule.stream, stream), eq(pollSchedule.pattern, pattern));
  await db.insert(pollSchedule).values({ source, stream, pattern, nextDueAt: nowIso }).onConflictDoNothing();
  const row = await db.select().from(pollSchedule).where(key).get();
  const stale = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
  if (row?.activeRunId && (row.heartbeatAt ?? "") >= stale) return false;
  const claimed = await db
    .update(pollSchedule)
    .set({ activeRunId: runId, heartbeatAt: nowIso })
    .where(and(key, row?.activeRunId ? eq(pollSchedule.activeRunId, row.activeRunId) : isNull(pollSchedule.activeRunId)))
    .run();
  if ((claimed.meta.changes ?? 0) === 0) return false;
  if (row?.activeRunId) {
    await db
      .update(runs)
      // The error its last job attempt noted (see noteJobFailure) is why it stopped: it stays in the reason.
      .set({
        status: "failed",
        finishedAt: nowIso,
        error: sql`${`abandoned: no heartbeat since ${row.heartbeatAt}`} || coalesce('; ' || ${runs.error}, '')`,
      })
      .where(and(eq(runs.id, row.activeRunId), eq(runs.status, "running")))
      .run();
  }
  return true;
}

export async function insertRun(
  d1: D1Database,
  r: { id: string; source: string; stream: string; pattern: RunPattern; state: RunState; now: Date },
): Promise<string> {
  const stateText = JSON.stringify(r.state);
  await database(d1)
    .insert(runs)
    .values({
      id: r.id,
      source: r.source,
      stream: r.stream,
      pattern: r.pattern,
      status: "running",
      startedAt: r.now.toISOString(),
      cursorFrom: r.state.cursorFrom,
      cursorTo: r.state.cursorFrom,
      state: stateText,
    })
    .onConflictDoNothing();
  return stateText;
}

interface Scope {
  source: string;
  stream: string;
  pattern: RunPattern;
  runId: string;
}

/**
 * Saves the run's position after a page is on INGEST. Conditional on the state we loaded, so two
 * invocations of one run (a retried message and its continuation) cannot both advance it: the
 * loser gets false and stops. `moveCursor` also advances the stored cursor (ascending streams).
 */
export async function checkpoint(
  d1: D1Database,
  scope: Scope,
  prevStateText: string,
  state: RunState,
  now: Date,
  moveCursor: CursorMove | null,
): Promise<{ ok: boolean; stateText: string }> {
  const db = database(d1);
  const stateText = JSON.stringify(state);
  const statements: BatchItem<"sqlite">[] = [
    db
      .update(runs)
      .set({ state: stateText, pages: state.pages, records: state.records, cursorTo: state.cursorMax })
      .where(and(eq(runs.id, scope.runId), eq(runs.status, "running"), eq(runs.state, prevStateText))),
    db.update(pollSchedule).set({ heartbeatAt: now.toISOString() }).where(scheduleHeldBy(scope)),
  ];
  // First, while the run's row still shows the state this invocation loaded (see cursorWrite).
  if (moveCursor) statements.unshift(cursorWrite(db, scope, prevStateText, moveCursor, now));
  const results = (await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown as D1Result[];
  const result = results[moveCursor ? 1 : 0] as D1Result;
  return { ok: (result.meta.changes ?? 0) > 0, stateText };
}

/** Ends a run: status, counts, the stored cursor (conditional on nobody having reset it) and the schedule. */
export async function finishRun(
  d1: D1Database,
  scope: Scope,
  prevStateText: string,
  state: RunState,
  outcome: { status: "succeeded" | "failed" | "paused"; error?: string; intervalMinutes: number; moveCursor: CursorMove | null },
  now: Date,
): Promise<boolean> {
  const db = database(d1);
  const nowIso = now.toISOString();
  const statements: BatchItem<"sqlite">[] = [
    db
      .update(runs)
      .set({
        status: outcome.status,
        finishedAt: nowIso,
        state: JSON.stringify(state),
        pages: state.pages,
        records: state.records,
        cursorTo: state.cursorMax,
        error: outcome.error ?? null,
      })
      .where(and(eq(runs.id, scope.runId), eq(runs.status, "running"), eq(runs.state, prevStateText))),
  ];
  if (outcome.moveCursor) statements.unshift(cursorWrite(db, scope, prevStateText, outcome.moveCursor, now));
  statements.push(
    db
      .update(pollSchedule)
      .set({
        activeRunId: null,
        lastRunId: scope.runId,
        lastStatus: outcome.status,
        lastFinishedAt: nowIso,
        lastError: outcome.error ?? null,
        nextDueAt: new Date(now.getTime() + outcome.intervalMinutes * 60_000).toISOString(),
      })
      .where(scheduleHeldBy(scope)),
  );
  const results = (await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown as D1Result[];
  const result = results[outcome.moveCursor ? 1 : 0] as D1Result;
  return (result.meta.changes ?? 0) > 0;
}

function scheduleHeldBy(scope: Scope) {
  return and(
    eq(pollSchedule.source, scope.source),
    eq(pollSchedule.stream, scope.stream),
    eq(pollSchedule.pattern, scope.pattern),
    eq(pollSchedule.activeRunId, scope.runId),
  );
}

/** The stored cursor moves from what this run last knew to its new value. */
export interface CursorMove {
  from: string | null;
  to: string;
}

/**
 * Writes the new cursor only over the value this run last knew: an admin reset in the meantime wins.
 * A missing row is created; the value is never lower than what the run started from (laterCursor).
 * Only while the run is live and holds the state this invocation loaded: a run an operator ended
 * (a reset) or a superseded invocation writes nothing, so a forgotten cursor is not created again.
 */
function cursorWrite(db: ReturnType<typeof database>, scope: Scope, prevStateText: string, move: CursorMove, now: Date) {
  const at = now.toISOString();
  // The column order of the table: source, stream, cursor, run_id, updated_at.
  return db
    .insert(cursors)
    .select(
      sql`SELECT ${scope.source}, ${scope.stream}, ${move.to}, ${scope.runId}, ${at}
        WHERE EXISTS (SELECT 1 FROM runs WHERE id = ${scope.runId} AND status = 'running' AND state = ${prevStateText})`,
    )
    .onConflictDoUpdate({
      target: [cursors.source, cursors.stream],
      set: { cursor: move.to, runId: scope.runId, updatedAt: at },
      setWhere: move.from === null ? sql`0` : eq(cursors.cursor, move.from),
    });
}

/**
 * An operator's reset of a stream: its live runs end as failed with `reason` and its schedule row is
 * free, so the next run starts from the cursor as it is now, not from a run's saved step state; the
 * ended run's next checkpoint finds its row changed and stops (superseded) without writing a cursor.
 */
export async function endLiveRuns(d1: D1Database, source: string, stream: string, reason: string, now: Date): Promise<string[]> {
  const db = database(d1);
  const live = await db
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.source, source), eq(runs.stream, stream), eq(runs.status, "running")))
    .all();
  if (live.length === 0) return [];
  const at = now.toISOString();
  await db.batch([
    db
      .update(runs)
      .set({ status: "failed", finishedAt: at, error: reason })
      .where(and(eq(runs.source, source), eq(runs.stream, stream), eq(runs.status, "running"))),
    db
      .update(pollSchedule)
      .set({ activeRunId: null, lastStatus: "failed", lastFinishedAt: at, lastError: reason })
      .where(and(eq(pollSchedule.source, source), eq(pollSchedule.stream, stream), isNotNull(pollSchedule.activeRunId))),
  ]);
  return live.map((r) => r.id);
}

/** Poll rows that are due: not running (or running but dead), next_due_at passed. */
export async function dueRows(d1: D1Database, pattern: RunPattern, now: Date) {
  const db = database(d1);
  const stale = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
  return db
    .select({ source: pollSchedule.source, stream: pollSchedule.stream })
    .from(pollSchedule)
    .where(
      and(
        eq(pollSchedule.pattern, pattern),
        lt(pollSchedule.nextDueAt, new Date(now.getTime() + 1).toISOString()),
        or(isNull(pollSchedule.activeRunId), lt(pollSchedule.heartbeatAt, stale)),
      ),
    )
    .all();
}
