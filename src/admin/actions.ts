import * as z from "zod";
import { configurationProblem } from "../pollers/configuration";
import { resetCursor } from "../pollers/cursor";
import { endLiveRuns } from "../pollers/run-store";
import { newRunId } from "../pollers/run-poll";
import type { CursorSpec, PollStream } from "../pollers/types";
import { jobSchema } from "../queue-consumers/jobs-consumer";
import type { SourceDefinition } from "../sources/define-source";
import { pausedSources } from "../ops/controls";
import { isReconcilable } from "../reconcile/types";
import { requestedWindow, WindowRefused } from "../reconcile/window";

/** An admin call's answer: an HTTP status and a JSON body (the route turns it into a response). */
export interface ActionResult {
  status: 200 | 202 | 400 | 404 | 409 | 422 | 501 | 503;
  body: Record<string, unknown>;
}

export interface ActionEnv {
  DB: D1Database;
  JOBS: Queue<unknown>;
}

const fail = (status: ActionResult["status"], error: string): ActionResult => ({ status, body: { error } });

/**
 * A source that is not configured here is refused before anything is queued or changed, with what
 * to set (README: "until then it is skipped, never half-run"). Asks what a run asks before its first request.
 */
function unconfigured(env: ActionEnv, source: SourceDefinition): ActionResult | null {
  const problem = configurationProblem(source, env as unknown as Record<string, unknown>);
  return problem ? { status: 422, body: { error: problem.error, missing: problem.missing } } : null;
}

/** Streams with an interval are polled; the others are read only as a full refresh (nightly or on demand). */
const isPolled = (stream: PollStream) => (stream.intervalMinutes ?? 15) > 0;

export function findPollStream(
  find: (name: string) => SourceDefinition | undefined,
  source: string,
  stream: string,
): { source: SourceDefinition; stream: PollStream } | ActionResult {
  const def = find(source);
  if (!def) return fail(404, `no source named ${JSON.stringify(source)}`);
  const s = def.streams?.find((x) => x.name === stream);
  if (!s)
    return fail(404, `source ${source} has no polled stream ${JSON.stringify(stream)} (webhook streams cannot be run; see reconcile)`);
  return { source: def, stream: s };
}

/** Validates a job against the JOBS union before sending, so a job kind that does not exist yet is a 501, not a lost message. */
async function sendJob(env: ActionEnv, job: Record<string, unknown>): Promise<ActionResult | null> {
  const parsed = jobSchema.safeParse(job);
  if (!parsed.success) {
    const kinds = jobSchema.options.map((o) => o.shape.kind.value);
    if (!kinds.includes(job.kind as never)) return fail(501, `the ${String(job.kind)} job kind is not installed in this Worker`);
    const issue = parsed.error.issues[0];
    return fail(422, `invalid ${String(job.kind)} job at ${issue?.path.join(".")}: ${issue?.message}`);
  }
  try {
    await env.JOBS.send(parsed.data, { contentType: "json" });
  } catch {
    return fail(503, "could not queue the job; retry");
  }
  return null;
}

/**
 * Run a stream now: one poll job on JOBS (a full refresh only when asked for), with a fresh run id.
 * Refused: a source that is not configured (422, naming what to set), a paused one without `force`.
 */
export async function runNow(
  env: ActionEnv,
  find: (name: string) => SourceDefinition | undefined,
  source: string,
  stream: string,
  opts: { pattern?: "poll" | "full_refresh"; force?: boolean },
  now = new Date(),
): Promise<ActionResult> {
  const found = findPollStream(find, source, stream);
  if ("status" in found) return found;
  const refused = unconfigured(env, found.source);
  if (refused) return refused;
  if (!opts.force && (await pausedSources(env.DB)).has(source)) return fail(409, `source ${source} is paused; resume it or pass force`);
  // Never a full refresh unless asked for: it re-reads everything as a snapshot.
  const kind = opts.pattern ?? "poll";
  if (kind === "poll" && !isPolled(found.stream)) {
    return fail(
      422,
      `stream ${source}.${stream} is not polled: it is read only as a full refresh; ask for one (pattern "full_refresh", dock run --full-refresh)`,
    );
  }
  if (kind === "full_refresh" && !found.stream.fullRefresh && isPolled(found.stream)) {
    return fail(422, `stream ${source}.${stream} is not declared fullRefresh`);
  }
  const run_id = newRunId(kind, now);
  const job = { kind, source, stream, run_id };
  const failed = await sendJob(env, job);
  if (failed) return failed;
  return {
    status: 202,
    body: {
      queued: job,
      note: "the run starts when a JOBS consumer picks it up; if a run of this stream is active, the new one is skipped",
    },
  };
}

export const cursorBody = z.object({ cursor: z.string().min(1).max(1000).nullable() });

/** Set a stream's cursor (or forget it with null: the next poll reads the whole stream). */
export async function setCursor(
  env: ActionEnv,
  find: (name: string) => SourceDefinition | undefined,
  source: string,
  stream: string,
  cursor: string | null,
  now = new Date(),
): Promise<ActionResult> {
  const found = findPollStream(find, source, stream);
  if ("status" in found) return found;
  const stepped = !!found.stream.steps;
  if (!found.stream.cursor && !stepped) return fail(422, `stream ${source}.${stream} has no cursor: every poll reads it whole`);
  if (stepped && cursor !== null) {
    return fail(
      422,
      `stream ${source}.${stream} is stepped: its cursor is its own text; forget it (cursor null, the next run starts as a first run) or backfill from a time`,
    );
  }
  const before = await env.DB.prepare("SELECT cursor FROM cursors WHERE source = ?1 AND stream = ?2")
    .bind(source, stream)
    .first<{ cursor: string }>();
  // A live run would carry on from its own saved position (and cursor): it ends, the next run starts afresh.
  const ended = await endLiveRuns(env.DB, source, stream, `superseded: an operator ${cursor === null ? "reset" : "set"} the cursor`, now);
  await resetCursor(env.DB, source, stream, cursor, now);
  return { status: 200, body: { source, stream, cursor_before: before?.cursor ?? null, cursor, runs_ended: ended } };
}

/** A time as the stream's cursor writes it (updated_at cursors only). */
export function cursorValueFor(spec: CursorSpec, at: Date): string {
  if (spec.format === "unix") return String(Math.floor(at.getTime() / 1000));
  if (spec.format === "unix_ms") return String(at.getTime());
  return at.toISOString();
}

export const backfillBody = z
  .object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }).optional() })
  .refine((b) => !b.to || Date.parse(b.to) > Date.parse(b.from), "to must be after from");

/**
 * Backfill a time range. A polled stream with an updated_at cursor: the cursor goes back to
 * `from` and a poll runs now, reading forward to the present (the poll engine has no upper bound;
 * dedupe absorbs what is already there). A stream without a cursor: a run reads it whole. A
 * webhook source: a reconcile of the range (when the reconcile job kind is installed).
 */
export async function backfill(
  env: ActionEnv,
  find: (name: string) => SourceDefinition | undefined,
  source: string,
  stream: string,
  range: { from: string; to?: string },
  now = new Date(),
): Promise<ActionResult> {
  const def = find(source);
  if (!def) return fail(404, `no source named ${JSON.stringify(source)}`);
  const polled = def.streams?.find((s) => s.name === stream);
  if (!polled) {
    const result = await reconcileNow(env, find, source, range);
    return result.status === 202 ? { status: 202, body: { ...result.body, how: "reconcile over the range (webhook stream)" } } : result;
  }
  const refused = unconfigured(env, def);
  if (refused) return refused;
  if (polled.steps) return backfillStepped(env, find, source, polled, range, now);
  if (polled.cursor && polled.cursor.kind !== "updated_at") {
    return fail(
      422,
      `stream ${source}.${stream} has a ${polled.cursor.kind} cursor, which has no time: set the cursor (PUT …/cursor) instead`,
    );
  }
  let how = "a full read of a stream without a cursor";
  if (polled.cursor) {
    const value = cursorValueFor(polled.cursor, new Date(range.from));
    await resetCursor(env.DB, source, stream, value, now);
    how = `cursor set to ${value}, then a poll reads from there to now`;
  }
  const run = await runNow(env, find, source, stream, { force: true, pattern: isPolled(polled) ? "poll" : "full_refresh" }, now);
  if (run.status !== 202) return run;
  return { status: 202, body: { ...run.body, how, from: range.from, to: range.to ?? null } };
}

/**
 * A stepped stream (report jobs, Bulk loads, hourly exports): the stream says which cursor reads
 * again from `from` (`steps.cursorAt`), any live run ends, and a run is queued. A stream with no
 * such cursor but a full refresh gets that; otherwise the operator is told to reset it.
 */
async function backfillStepped(
  env: ActionEnv,
  find: (name: string) => SourceDefinition | undefined,
  source: string,
  stream: PollStream,
  range: { from: string; to?: string },
  now: Date,
): Promise<ActionResult> {
  const cursorAt = stream.steps?.cursorAt;
  let how: string;
  if (cursorAt) {
    const value = cursorAt(new Date(range.from));
    await endLiveRuns(env.DB, source, stream.name, "superseded: an operator backfilled the stream", now);
    await resetCursor(env.DB, source, stream.name, value, now);
    how = `cursor set to ${value}, then a run reads from there to now`;
  } else if (stream.fullRefresh) {
    how = "a full refresh (the stream reads its own window whole)";
  } else {
    return fail(
      422,
      `stream ${source}.${stream.name} cannot start at a time: forget its cursor (DELETE …/cursor) to read it again from the start`,
    );
  }
  const run = await runNow(env, find, source, stream.name, { force: true, pattern: cursorAt ? "poll" : "full_refresh" }, now);
  if (run.status !== 202) return run;
  return { status: 202, body: { ...run.body, how, from: range.from, to: range.to ?? null } };
}

export const reconcileBody = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** Run the first step in this request and answer with its counts (listed, held, recovered…); needs `from`. */
  wait: z.boolean().optional(),
});

/**
 * Reconcile a source now: a `reconcile` job on JOBS (the reconciler's kind), so the admin call
 * never waits on the vendor. Checked first with the reconciler's own rules: a webhook source with
 * a listing (422 otherwise), and a window the vendor still has history for (400 otherwise).
 */
export async function reconcileNow(
  env: ActionEnv,
  find: (name: string) => SourceDefinition | undefined,
  source: string,
  range: { from?: string; to?: string },
  now = new Date(),
): Promise<ActionResult> {
  const def = find(source);
  if (!def?.webhook) return fail(404, `no webhook source named ${JSON.stringify(source)}`);
  if (!isReconcilable(def.reconcile))
    return fail(422, `${source} is not reconcilable: ${def.reconcile?.unsupported ?? "no listing declared"}`);
  if (range.from) {
    try {
      requestedWindow(source, def.reconcile, range.from, range.to, now.getTime());
    } catch (err) {
      if (err instanceof WindowRefused) return fail(400, err.message);
      throw err;
    }
  }
  const job: Record<string, unknown> = { kind: "reconcile", source };
  if (range.from) job.from = range.from;
  if (range.to) job.to = range.to;
  const failed = await sendJob(env, job);
  if (failed) return failed;
  return { status: 202, body: { queued: job } };
}

export const runsQuery = z.object({
  source: z.string().max(63).optional(),
  stream: z.string().max(128).optional(),
  status: z.enum(["running", "succeeded", "failed", "paused"]).optional(),
  before: z.string().max(40).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export async function listRuns(d1: D1Database, q: z.infer<typeof runsQuery>) {
  const where: string[] = [];
  const binds: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    binds.push(v);
    where.push(sql.replace("?", `?${binds.length}`));
  };
  if (q.source) add("source = ?", q.source);
  if (q.stream) add("stream = ?", q.stream);
  if (q.status) add("status = ?", q.status);
  if (q.before) add("started_at < ?", q.before);
  binds.push(q.limit);
  const sql = `SELECT id, source, stream, pattern, status, started_at, finished_at, records, pages, cursor_from, cursor_to, error
    FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY started_at DESC LIMIT ?${binds.length}`;
  return (
    await d1
      .prepare(sql)
      .bind(...binds)
      .all()
  ).results;
}
