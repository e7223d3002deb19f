import type { Pattern } from "../envelope/envelope";
import { enqueueRecords } from "../ingest/enqueue";
import { sha256Hex } from "../lib/crypto";
import { errorText, log, redact } from "../lib/log";
import { type Clock, realClock } from "./clock";
import { baseUrlOf } from "./configuration";
import { laterCursor, readCursor } from "./cursor";
import type { HttpContext } from "./http";
import { byStream } from "./page-records";
import { planPages, readPage } from "./read-page";
import { localGate, openGate, parseFraction, type RateGate, slotIntervalMs } from "./rate-gate";
import type { RateLimiter } from "./rate-limiter-do";
import type { BackoffOptions } from "./retry";
import { runEndings } from "./run-endings";
import { type CursorMove, checkpoint, claimStream, finishRun, insertRun, loadRun, type RunPattern, type RunState } from "./run-store";
import { enqueueManifest, enqueueSnapshotPage } from "./snapshot";
import { runSteppedStep } from "./stepped-run";
import type { PollSource, PollStream } from "./types";

export interface PollEnv {
  DB: D1Database;
  RAW: R2Bucket;
  INGEST: Queue<any>;
  JOBS: Queue<any>;
  RATE_LIMITER?: DurableObjectNamespace<RateLimiter>;
  RATE_FRACTION?: string;
  [binding: string]: unknown;
}

/** A poll or full-refresh job; `run_id` names the run (given by the scheduler, so a retried message resumes it). */
export interface PollJob {
  kind: RunPattern;
  source: string;
  stream: string;
  run_id?: string;
  /** The page the continuation starts at, for logs; the run's state in D1 is what counts. */
  page?: number;
}

/** What one invocation may spend before it hands over to a continuation. */
export interface StepBudget {
  pages: number;
  subrequests: number;
  wallMs: number;
}

/** Where a source's API root is worked out (kept importable from here: the scheduler and the reconciler use it). */
export { baseUrlOf };

export const DEFAULT_BUDGET: StepBudget = { pages: 50, subrequests: 400, wallMs: 60_000 };
export const DEFAULT_RETRIES_PER_RUN = 30;
/** Empty pages in a row that still claim there is more, before we call it a loop. */
export const MAX_EMPTY_PAGES = 3;

export interface PollDeps {
  clock?: Clock;
  gate?: RateGate;
  budget?: Partial<StepBudget>;
  retriesPerRun?: number;
  backoff?: BackoffOptions;
  maxInlineWaitMs?: number;
  fetch?: typeof fetch;
  onWait?: (ms: number, reason: string) => void;
}

export type StepStatus = "succeeded" | "failed" | "paused" | "continued" | "deferred" | "skipped" | "superseded";

export interface StepOutcome {
  status: StepStatus;
  runId: string;
  pages: number;
  records: number;
  error?: string;
}

export function newRunId(pattern: RunPattern, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").slice(0, 15);
  return `${pattern === "poll" ? "poll" : "fr"}-${stamp}-${crypto.randomUUID().slice(0, 8)}`;
}

export function findStream(source: PollSource, name: string): PollStream {
  const stream = source.streams?.find((s) => s.name === name);
  if (!stream) throw new Error(`source ${source.name} has no stream ${name}`);
  return stream;
}

/** The rate gate of a stream: its own cap or its source's, at RATE_FRACTION, shared through the Durable Object. */
export function gateFor(env: PollEnv, source: PollSource, stream: PollStream, clock: Clock): RateGate {
  const cap = stream.rateLimit ?? (typeof source.rateLimit === "function" ? source.rateLimit(env) : source.rateLimit);
  if (!cap) return openGate;
  const key = stream.rateLimit ? `${source.name}/${stream.name}` : source.name;
  const interval = slotIntervalMs(cap, parseFraction(env.RATE_FRACTION));
  if (env.RATE_LIMITER) {
    const ns = env.RATE_LIMITER;
    const stub = ns.get(ns.idFromName(key));
    return { reserve: () => stub.reserve(key, interval), pause: (ms) => stub.pause(key, ms) };
  }
  return localGate(key, interval, clock);
}

/**
 * One invocation's share of a run: starts the run (or picks it up from D1), fetches pages until the
 * stream is done or the budget is spent, and hands over to a continuation job. For every page:
 * records onto INGEST first, then the checkpoint in D1, so a crash repeats at most that page.
 */
export async function runPollStep(env: PollEnv, source: PollSource, job: PollJob, deps: PollDeps = {}): Promise<StepOutcome> {
  const clock = deps.clock ?? realClock;
  const stream = findStream(source, job.stream);
  if (stream.steps) return runSteppedStep(env, source, { ...stream, steps: stream.steps }, job, deps);
  const pattern: RunPattern = job.kind;
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
    const cursor = pattern === "poll" && stream.cursor ? await readCursor(env.DB, source.name, stream.name) : null;
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
  const { fail, handOver } = runEndings({ env, source, stream, pattern, runId, clock, current: () => ({ state, stateText }) });
  const budget = { ...DEFAULT_BUDGET, ...deps.budget };
  // A source that is not configured (an unset variable, a base URL that is not a URL) fails the run, not the job.
  const setup = planPages(env, source, stream, pattern, state.cursorFrom, () => deps.gate ?? gateFor(env, source, stream, clock));
  if ("error" in setup) return fail(setup.error);
  const plan = setup.value;
  const { baseUrl, gate } = plan;
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
  let pagesNow = 0;
  const cursorSpec = pattern === "poll" ? stream.cursor : undefined;
  const moveFor = (s: RunState): CursorMove | null =>
    cursorSpec && s.cursorMax !== null && s.cursorMax !== s.cursorStored ? { from: s.cursorStored, to: s.cursorMax } : null;

  for (;;) {
    if (pagesNow >= budget.pages || http.budget.subrequests >= budget.subrequests || clock.now() - started >= budget.wallMs) {
      return handOver();
    }
    const read = await readPage({ http, plan, source, stream, pattern, runId, clock, next: state.next, pageNumber: state.pages + 1 });
    if (read.kind === "deferred") {
      const saved = await checkpoint(
        env.DB,
        scope,
        stateText,
        { ...state, retriesLeft: http.budget.retriesLeft },
        new Date(clock.now()),
        null,
      );
      if (!saved.ok) return { status: "superseded", runId, pages: state.pages, records: state.records };
      state = { ...state, retriesLeft: http.budget.retriesLeft };
      stateText = saved.stateText;
      return handOver(read.delayMs);
    }
    if (read.kind === "failed") return fail(read.error, read.status);
    const { position, text, parsed, routed, receivedAt, pageMax } = read;
    const pageHash = await sha256Hex(text);
    if (state.lastPageHash === pageHash && parsed.spans.length > 0) {
      return fail(`${position}: the vendor sent the previous page again; stopping rather than looping`);
    }

    const envelopes = routed.map((r) => r.record);
    const head = { source: source.name, stream: stream.name, pattern: pattern as Pattern, received_at: receivedAt, run_id: runId };
    let parts = 0;
    if (pattern === "full_refresh") parts = await enqueueSnapshotPage(env, head, runId, state.parts, envelopes);
    else for (const [name, records] of byStream(routed)) await enqueueRecords(env, { ...head, stream: name }, records);
    pagesNow++;

    const nextState: RunState = {
      ...state,
      pages: state.pages + 1,
      records: state.records + envelopes.length,
      parts: state.parts + parts,
      retriesLeft: http.budget.retriesLeft,
      lastPageHash: pageHash,
      cursorMax: cursorSpec ? laterCursor(cursorSpec, state.cursorMax, pageMax) : null,
      emptyStreak: parsed.spans.length === 0 ? state.emptyStreak + 1 : 0,
    };
    if ("error" in read.next) {
      state = nextState;
      return fail(read.next.error);
    }
    const next = read.next.page;

    if (next === null) {
      state = { ...nextState, next: undefined };
      if (pattern === "full_refresh") {
        await enqueueManifest(env.INGEST, {
          source: source.name,
          stream: stream.name,
          run_id: runId,
          parts: state.parts,
          records: state.records,
          received_at: receivedAt,
        });
      }
      const ok = await finishRun(
        env.DB,
        scope,
        stateText,
        state,
        { status: "succeeded", intervalMinutes: interval, moveCursor: moveFor(state) },
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
      });
      return { status: "succeeded", runId, pages: state.pages, records: state.records };
    }

    const tokenHash = (await sha256Hex(JSON.stringify(next))).slice(0, 16);
    if (state.seen.includes(tokenHash)) {
      state = nextState;
      return fail(
        `${position}: the next-page token ${JSON.stringify(next).slice(0, 80)} was already followed in this run; the vendor is looping`,
      );
    }
    if (nextState.emptyStreak >= MAX_EMPTY_PAGES) {
      state = nextState;
      return fail(`${position}: ${MAX_EMPTY_PAGES} empty pages in a row that still claim more; stopping`);
    }
    nextState.next = next;
    nextState.seen = [...state.seen, tokenHash].slice(-64);
    const move = stream.cursor?.ascending ? moveFor(nextState) : null;
    if (move) nextState.cursorStored = move.to;
    const saved = await checkpoint(env.DB, scope, stateText, nextState, new Date(clock.now()), move);
    if (!saved.ok) {
      log("warn", { event: "poll.superseded", ...fields, pages: nextState.pages });
      return { status: "superseded", runId, pages: nextState.pages, records: nextState.records };
    }
    state = nextState;
    stateText = saved.stateText;
  }
}

/** For logs: the error text of anything thrown, never a secret. */
export function pollErrorText(err: unknown): string {
  return redact(errorText(err));
}
