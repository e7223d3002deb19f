import type { Pattern } from "../envelope/envelope";
import type { BundleRecord } from "../envelope/bundle";
import { dockId } from "../envelope/dock-id";
import { envelopeLine } from "../envelope/envelope";
import { enqueueRecords } from "../ingest/enqueue";
import { log, logStep, redact } from "../lib/log";
import { realClock } from "./clock";
import { readCursor } from "./cursor";
import { prepareRun } from "./configuration";
import { openGate } from "./rate-gate";
import { recordVersion } from "./record-version";
import { DeferRun, fetchPage, type HttpContext, openPage, PollFailure, QuotaExhausted } from "./http";
import {
  baseUrlOf,
  DEFAULT_BUDGET,
  DEFAULT_RETRIES_PER_RUN,
  gateFor,
  newRunId,
  type PollDeps,
  type PollEnv,
  type PollJob,
  type StepOutcome,
} from "./run-poll";
import { runEndings } from "./run-endings";
import { type CursorMove, checkpoint, claimStream, finishRun, insertRun, loadRun, type RunState } from "./run-store";
import { enqueueManifest, enqueueSnapshotPage } from "./snapshot";
import type { PollSource, PollStream, StepContext, StepRecord, StepResult, StreamSteps } from "./types";

/** Longest delay handed to the queue at once (the run's heartbeat must stay fresh). */

/**
 * The runner of a stepped stream (`stream.steps`): the same run lifecycle as a paged stream — claim
 * the stream, state in D1, budget per invocation, continuations through JOBS, snapshot parts and a
 * manifest for full refreshes — around steps written as code. After every step: its records are on
 * INGEST (emit resolves only then), then its state and cursor are checkpointed in D1, so a crash
 * repeats at most that step. A step that returns `later` ends the invocation with a delayed
 * continuation: a vendor job that takes an hour never holds a Worker.
 */
export async function runSteppedStep(
  env: PollEnv,
  source: PollSource,
  stream: PollStream & { steps: StreamSteps },
  job: PollJob,
  deps: PollDeps = {},
): Promise<StepOutcome> {
  const clock = deps.clock ?? realClock;
  const pattern = job.kind;
  const runId = job.run_id ?? newRunId(pattern, new Date(clock.now()));
  const scope = { source: source.name, stream: stream.name, pattern, runId };
  const fields = { source: source.name, stream: stream.name, pattern, run_id: runId };
  const interval = stream.intervalMinutes ?? 15;

  let stored = await loadRun(env.DB, runId);
  if (stored && stored.status !== "running") return { status: "skipped", runId, pages: 0, records: 0 };
  if (!stored) {
    if (!(await claimStream(env.DB, source.name, stream.name, pattern, runId, new Date(clock.now())))) {
      log("info", { event: "poll.skipped_busy", ...fields });
      return { status: "skipped", runId, pages: 0, records: 0 };
    }
    const cursor = pattern === "poll" ? await readCursor(env.DB, source.name, stream.name) : null;
    const state: RunState = {
      v: 1,
      cursorFrom: cursor,
      cursorStored: cursor,
      cursorMax: cursor,
      pages: 0,
      records: 0,
      parts: 0,
      retriesLeft: deps.retriesPerRun ?? DEFAULT_RETRIES_PER_RUN,
      seen: [],
      emptyStreak: 0,
    };
    const stateText = await insertRun(env.DB, { ...scope, id: runId, state, now: new Date(clock.now()) });
    stored = { id: runId, status: "running", state, stateText };
    log("info", { event: "poll.started", ...fields, cursor_from: cursor });
  }

  let state = stored.state;
  let stateText = stored.stateText;
  const budget = { ...DEFAULT_BUDGET, ...deps.budget };
  // A source that is not configured (an unset variable, a base URL that is not a URL) fails the run, not the job.
  const setup = prepareRun(source, env, () => ({
    baseUrl: baseUrlOf(source, env),
    gate: deps.gate ?? gateFor(env, source, stream, clock),
  }));
  const unconfigured = "error" in setup ? setup.error : undefined;
  const { baseUrl, gate } = "value" in setup ? setup.value : { baseUrl: "", gate: openGate };
  const http: HttpContext = {
    baseUrl,
    env,
    auth: source.auth,
    gate,
    clock,
    budget: { retriesLeft: state.retriesLeft, subrequests: 0 },
    backoff: deps.backoff,
    maxInlineWaitMs: deps.maxInlineWaitMs,
    fetch: deps.fetch,
    onWait: deps.onWait,
    throttle: source.throttle,
    quota: source.quota,
  };
  const started = clock.now();
  let stepsNow = 0;
  // Records and parts of the step in progress; folded into the state at its checkpoint.
  let emitted = 0;
  let partsUsed = 0;

  const ctx: StepContext = {
    env,
    runId,
    pattern,
    now: () => clock.now(),
    cursorFrom: state.cursorFrom,
    fetch: (req) => fetchPage(http, req),
    open: (req) => openPage(http, req),
    emit: async (records) => {
      if (records.length === 0) return;
      const receivedAt = new Date(clock.now()).toISOString();
      const head = { source: source.name, stream: stream.name, pattern: pattern as Pattern, received_at: receivedAt, run_id: runId };
      const envelopes = await toEnvelopes(source.name, stream, pattern, receivedAt, runId, records);
      if (pattern === "full_refresh") partsUsed += await enqueueSnapshotPage(env, head, runId, state.parts + partsUsed, envelopes);
      else await enqueueRecords(env, head, envelopes);
      emitted += envelopes.length;
    },
    log: (level, event, extra = {}) => logStep(level, event, fields, extra),
  };

  const { fail, handOver } = runEndings({ env, source, stream, pattern, runId, clock, current: () => ({ state, stateText }) });
  // The step owns its cursor's order (it may be a map of positions): it must never hand back an earlier one.
  const cursorMove = (to: string | undefined): CursorMove | null =>
    pattern === "poll" && to !== undefined && to !== state.cursorStored ? { from: state.cursorStored, to } : null;

  if (unconfigured !== undefined) return fail(unconfigured);
  for (;;) {
    if (stepsNow >= budget.pages || http.budget.subrequests >= budget.subrequests || clock.now() - started >= budget.wallMs) {
      return handOver();
    }
    emitted = 0;
    partsUsed = 0;
    let result: StepResult;
    try {
      result = await stream.steps.step(ctx, state.custom);
    } catch (err) {
      if (err instanceof DeferRun) {
        // Whatever this step emitted is on INGEST; it repeats from the last checkpoint (same ids).
        const waiting = { ...state, retriesLeft: http.budget.retriesLeft };
        const saved = await checkpoint(env.DB, scope, stateText, waiting, new Date(clock.now()), null);
        if (!saved.ok) return { status: "superseded", runId, pages: state.pages, records: state.records };
        state = waiting;
        stateText = saved.stateText;
        return handOver(err.delayMs);
      }
      if (err instanceof PollFailure) {
        state = { ...state, records: state.records + emitted, parts: state.parts + partsUsed };
        if (err instanceof QuotaExhausted) return fail(`step ${state.pages + 1}: quota spent, paused: ${err.message}`, "paused");
        return fail(`step ${state.pages + 1}: ${err.message}`);
      }
      throw err;
    }
    stepsNow++;
    const after: RunState = {
      ...state,
      pages: state.pages + 1,
      records: state.records + emitted,
      parts: state.parts + partsUsed,
      retriesLeft: http.budget.retriesLeft,
    };

    if (result.next === "fail") {
      state = after;
      return fail(result.error);
    }
    if (result.next === "done") {
      const move = cursorMove(result.cursor);
      state = { ...after, custom: undefined, cursorMax: move ? move.to : after.cursorMax };
      if (pattern === "full_refresh") {
        await enqueueManifest(env.INGEST, {
          source: source.name,
          stream: stream.name,
          run_id: runId,
          parts: state.parts,
          records: state.records,
          received_at: new Date(clock.now()).toISOString(),
        });
      }
      const note = result.note ? redact(result.note).slice(0, 2000) : undefined;
      const ok = await finishRun(
        env.DB,
        scope,
        stateText,
        state,
        { status: "succeeded", error: note, intervalMinutes: interval, moveCursor: move },
        new Date(clock.now()),
      );
      if (!ok) return { status: "superseded", runId, pages: state.pages, records: state.records };
      log("info", {
        event: "poll.succeeded",
        ...fields,
        pages: state.pages,
        records: state.records,
        cursor_to: state.cursorMax,
        ms: clock.now() - started,
        ...(note ? { note } : {}),
      });
      return { status: "succeeded", runId, pages: state.pages, records: state.records };
    }

    const move = cursorMove(result.cursor);
    const nextState: RunState = { ...after, custom: result.state, ...(move ? { cursorStored: move.to, cursorMax: move.to } : {}) };
    const saved = await checkpoint(env.DB, scope, stateText, nextState, new Date(clock.now()), move);
    if (!saved.ok) {
      log("warn", { event: "poll.superseded", ...fields, pages: nextState.pages });
      return { status: "superseded", runId, pages: nextState.pages, records: nextState.records };
    }
    state = nextState;
    stateText = saved.stateText;
    if (result.next === "later") return handOver(Math.max(1000, result.delayMs));
  }
}

/** A step's records as envelopes; `envelopePattern` when they carry another pattern than the run's (a reconciliation). */
export async function toEnvelopes(
  source: string,
  stream: PollStream,
  pattern: "poll" | "full_refresh",
  receivedAt: string,
  runId: string,
  records: StepRecord[],
  envelopePattern?: Pattern,
): Promise<BundleRecord[]> {
  const out: BundleRecord[] = [];
  for (const r of records) {
    const text = "json" in r ? r.json : r.raw;
    const version = await recordVersion(r.version, text, stream.uniqueVersion);
    const id = await dockId(source, stream.name, r.key, version);
    const op = r.op ?? (pattern === "full_refresh" ? "snapshot" : "upsert");
    const meta = {
      id,
      source,
      stream: stream.name,
      pattern: envelopePattern ?? (pattern as Pattern),
      key: r.key,
      version,
      op,
      received_at: receivedAt,
      run_id: runId,
    };
    const line = "json" in r ? envelopeLine(meta, { json: r.json }) : envelopeLine({ ...meta, error: r.error }, { raw: r.raw });
    out.push({ id, line });
  }
  return out;
}
