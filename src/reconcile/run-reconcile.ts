import type { BundleRecord } from "../envelope/bundle";
import { isSafeSegment } from "../envelope/raw-keys";
import { enqueueRecords } from "../ingest/enqueue";
import { recordLedger } from "../ledger";
import { errorText, log, redact } from "../lib/log";
import { type Clock, realClock } from "../pollers/clock";
import { DeferRun, fetchPage, type HttpContext, PollFailure } from "../pollers/http";
import type { RateGate } from "../pollers/rate-gate";
import type { BackoffOptions } from "../pollers/retry";
import { baseUrlOf, DEFAULT_RETRIES_PER_RUN, gateFor, type PollEnv } from "../pollers/run-poll";
import type { PollStream } from "../pollers/types";
import type { SourceDefinition } from "../sources/define-source";
import { recordsToEnvelopes } from "../webhooks/to-envelopes";
import {
  checkpoint,
  claimSource,
  countsOfRun,
  finishRun,
  insertRun,
  loadRun,
  readSourceState,
  recordNotReconcilable,
  recordRefused,
  releaseSource,
  type RunState,
  type SeenEvent,
} from "./store";
import { reconcileObjectsPage } from "./record-page";
import {
  isListing,
  isReconcilable,
  type ListContext,
  type ListedEvent,
  type Listing,
  type ReconcileListing,
  type ReconcileWindow,
} from "./types";
import { contains, nightlyWindow, requestedWindow, WindowRefused } from "./window";

export type ReconcileEnv = PollEnv;

/** A reconciliation job: nightly (no window) or an operator's window; `run_id` resumes a run. */
export interface ReconcileJob {
  kind: "reconcile";
  source: string;
  run_id?: string;
  from?: string;
  to?: string;
}

export interface ReconcileDeps {
  clock?: Clock;
  gate?: RateGate;
  /** Per invocation, before handing over to a continuation on JOBS. */
  budget?: { pages?: number; wallMs?: number };
  retriesPerRun?: number;
  backoff?: BackoffOptions;
  maxInlineWaitMs?: number;
  /** Where continuations go (default: env.JOBS). */
  continueWith?: (job: ReconcileJob, delaySeconds: number) => Promise<void>;
}

export type ReconcileStatus =
  | "succeeded"
  | "failed"
  | "continued"
  | "deferred"
  | "skipped"
  | "superseded"
  | "not_reconcilable"
  | "nothing_to_do";

export interface ReconcileOutcome {
  status: ReconcileStatus;
  runId: string;
  /** `event`: listed events vs receipts; `record`: listed objects vs versions held. */
  unit: "event" | "record";
  window?: ReconcileWindow;
  listed: number;
  /** Record level: listed objects the raw zone already held at that version or newer. */
  held?: number;
  /** Event level: listed events that came by webhook (record level: the same as `held`). */
  received: number;
  recovered: number;
  missing: number;
  unrecoverable?: ReconcileWindow;
  error?: string;
}

export function newReconcileRunId(now: Date): string {
  return `rec-${now.toISOString().replace(/[-:]/g, "").slice(0, 15)}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A listing has no stream of its own: its requests take the source's rate slots, shared with its pollers. */
const LISTING_STREAM: PollStream = { name: "_reconcile", path: "", records: "", primaryKey: "id", pagination: { style: "none" } };

const DEFAULT_PAGES = 50;
const DEFAULT_WALL_MS = 60_000;
const MAX_DEFER_MS = 15 * 60_000;

/**
 * One invocation's share of a reconciliation run: lists the vendor's events page by page, compares
 * their ids with the webhook receipts, sends the missing ones to INGEST as `reconcile` records with
 * the `_dock.id` the webhook would have had, and only then checkpoints. The watermark moves when
 * the whole window is done; a listing that fails midway leaves it where it was.
 */
export async function runReconcileStep(
  env: ReconcileEnv,
  source: SourceDefinition,
  job: ReconcileJob,
  deps: ReconcileDeps = {},
): Promise<ReconcileOutcome> {
  const clock = deps.clock ?? realClock;
  const now = () => new Date(clock.now());
  const runId = job.run_id ?? newReconcileRunId(now());
  const spec = source.reconcile;
  const unit = isReconcilable(spec) && !isListing(spec) ? "record" : "event";
  const empty = { runId, unit, listed: 0, received: 0, recovered: 0, missing: 0, ...(unit === "record" ? { held: 0 } : {}) } as const;
  const fields = { source: source.name, pattern: "reconcile", run_id: runId };
  if (!isReconcilable(spec)) {
    const reason = spec && "unsupported" in spec ? spec.unsupported : "the source declares no way to list its vendor's events";
    await recordNotReconcilable(env.DB, source.name, reason, runId, now());
    log("info", { event: "reconcile.not_reconcilable", ...fields, error: reason });
    return { ...empty, status: "not_reconcilable", error: reason };
  }

  let stored = await loadRun(env.DB, runId);
  if (stored && stored.status !== "running") return { ...empty, status: "skipped" };
  if (!stored) {
    if (!(await claimSource(env.DB, source.name, runId, now()))) {
      log("info", { event: "reconcile.skipped_busy", ...fields });
      return { ...empty, status: "skipped" };
    }
    let window: ReconcileWindow | null;
    let unrecoverable: ReconcileWindow | undefined;
    try {
      if (job.from !== undefined) {
        window = requestedWindow(source.name, spec, job.from, job.to, clock.now());
      } else {
        const state = await readSourceState(env.DB, source.name);
        ({ window, unrecoverable } = nightlyWindow(spec, state?.reconciledTo ?? null, clock.now()));
      }
    } catch (err) {
      if (!(err instanceof WindowRefused)) {
        await releaseSource(env.DB, source.name, runId, now());
        throw err;
      }
      await recordRefused(env.DB, source.name, runId, err.message, now());
      log("warn", { event: "reconcile.refused", ...fields, error: err.message });
      return { ...empty, status: "failed", error: err.message };
    }
    const state: RunState = {
      v: 1,
      window: window ?? { from: now().toISOString(), to: now().toISOString() },
      requested: job.from !== undefined,
      next: null,
      pages: 0,
      listed: 0,
      received: 0,
      recovered: 0,
      missing: 0,
      retriesLeft: deps.retriesPerRun ?? DEFAULT_RETRIES_PER_RUN,
      ...(unrecoverable ? { unrecoverable } : {}),
      ...(unit === "record" ? { unit } : {}),
    };
    const text = await insertRun(env.DB, runId, source.name, state, now());
    stored = { status: "running", state, text };
    log("info", { event: "reconcile.started", ...fields, window_from: state.window.from, window_to: state.window.to });
    if (!window) {
      // Nothing new to ask about yet (the last window ended less than the settle delay ago).
      await finishRun(env.DB, {
        source: source.name,
        runId,
        prevText: text,
        state,
        status: "succeeded",
        historyDays: spec.historyDays,
        now: now(),
        empty: true,
      });
      return { ...empty, status: "nothing_to_do", ...(unrecoverable ? { unrecoverable } : {}) };
    }
  }

  let state = stored.state;
  let text = stored.text;
  const summary = (status: ReconcileStatus, error?: string): ReconcileOutcome => ({
    status,
    runId,
    unit,
    window: state.window,
    listed: state.listed,
    ...(unit === "record" ? { held: state.received } : {}),
    received: state.received,
    recovered: state.recovered,
    missing: state.missing,
    ...(state.unrecoverable ? { unrecoverable: state.unrecoverable } : {}),
    ...(error ? { error } : {}),
  });
  const fail = async (error: string): Promise<ReconcileOutcome> => {
    const message = redact(error).slice(0, 2000);
    await finishRun(env.DB, {
      source: source.name,
      runId,
      prevText: text,
      state,
      status: "failed",
      error: message,
      historyDays: spec.historyDays,
      now: now(),
    });
    log("error", { event: "reconcile.failed", ...fields, records: state.recovered, pages: state.pages, error: message });
    return summary("failed", message);
  };
  const handOver = async (delayMs = 0): Promise<ReconcileOutcome> => {
    const delaySeconds = Math.min(Math.ceil(delayMs / 1000), MAX_DEFER_MS / 1000);
    const next: ReconcileJob = { kind: "reconcile", source: source.name, run_id: runId };
    if (deps.continueWith) await deps.continueWith(next, delaySeconds);
    else await env.JOBS.send(next, { contentType: "json", ...(delaySeconds > 0 ? { delaySeconds } : {}) });
    log("info", {
      event: delayMs > 0 ? "reconcile.deferred" : "reconcile.continued",
      ...fields,
      pages: state.pages,
      delay_s: delaySeconds,
    });
    return summary(delayMs > 0 ? "deferred" : "continued");
  };
  /** A listing that must wait (a vendor's pause): keep the retry budget it has left, then hand over. */
  const deferRun = async (delayMs: number): Promise<ReconcileOutcome> => {
    const saved = await checkpoint(env.DB, {
      source: source.name,
      runId,
      prevText: text,
      state: { ...state, retriesLeft: http.budget.retriesLeft },
      events: [],
      now: now(),
    });
    if (!saved.ok) return summary("superseded");
    text = saved.text;
    return handOver(delayMs);
  };

  let config: Record<string, string>;
  let ctx: ListContext;
  let http: HttpContext;
  try {
    config = configValues(env, spec);
    http = {
      // A record-level listing reads the source's poll streams: their base URL is set per page (planPages).
      baseUrl: isListing(spec) ? listingBaseUrl(source, spec, env) : "",
      env,
      auth: spec.auth ?? source.auth,
      gate: deps.gate ?? gateFor(env, { name: source.name, rateLimit: spec.rateLimit ?? source.rateLimit }, LISTING_STREAM, clock),
      clock,
      budget: { retriesLeft: state.retriesLeft, subrequests: 0 },
      backoff: deps.backoff,
      maxInlineWaitMs: deps.maxInlineWaitMs,
      ...(isListing(spec) ? {} : { throttle: source.throttle, quota: source.quota }),
    };
    ctx = { get: (request) => fetchPage(http, request), env, config };
  } catch (err) {
    return fail(errorText(err));
  }

  /** Moves the run past one page: its counts added and checkpointed with what it saw; false when another run took over. */
  const advance = async (
    next: string | null,
    seen: SeenEvent[],
    held: number,
    counts: { reconcile: number; missing: number },
  ): Promise<boolean> => {
    const nextState: RunState = {
      ...state,
      next,
      pages: state.pages + 1,
      listed: state.listed + seen.length,
      received: state.received + held,
      recovered: state.recovered + counts.reconcile,
      missing: state.missing + counts.missing,
      retriesLeft: http.budget.retriesLeft,
    };
    const saved = await checkpoint(env.DB, { source: source.name, runId, prevText: text, state: nextState, events: seen, now: now() });
    if (!saved.ok) {
      log("warn", { event: "reconcile.superseded", ...fields, pages: nextState.pages });
      return false;
    }
    state = nextState;
    text = saved.text;
    return true;
  };

  const started = clock.now();
  const pagesLimit = deps.budget?.pages ?? DEFAULT_PAGES;
  const wallMs = deps.budget?.wallMs ?? DEFAULT_WALL_MS;
  for (let pagesNow = 0; ; pagesNow++) {
    if (pagesNow >= pagesLimit || clock.now() - started >= wallMs) return handOver();
    const position = `page ${state.pages + 1} of the listing for ${state.window.from} .. ${state.window.to}`;
    if (!isListing(spec)) {
      const objects = await reconcileObjectsPage({
        env,
        source,
        spec,
        runId,
        window: state.window,
        next: state.next,
        http,
        clock,
        pageNumber: state.pages + 1,
      });
      if (objects.kind === "failed") return fail(`${position}: ${objects.error}`);
      if (objects.kind === "deferred") return deferRun(objects.delayMs);
      if (objects.next !== null && objects.next === state.next)
        return fail(`${position}: the listing gave the same next page again; stopping rather than looping`);
      if (!(await advance(objects.next, objects.seen, objects.counts.held, objects.counts))) return summary("superseded");
      if (objects.next === null) break;
      continue;
    }
    let listed: { events: ListedEvent[]; next: string | null };
    try {
      listed = await spec.list(state.window, state.next, ctx);
    } catch (err) {
      if (err instanceof DeferRun) return deferRun(err.delayMs);
      return fail(`${position}: ${errorText(err)}`);
    }
    if (listed.next !== null && listed.next === state.next)
      return fail(`${position}: the vendor gave the same page token again; stopping rather than looping`);

    let page: Awaited<ReturnType<typeof reconcilePage>>;
    try {
      page = await reconcilePage(env, source.name, runId, state.window, listed.events, now());
    } catch (err) {
      if (err instanceof PageError) return fail(`${position}: ${err.message}`);
      throw err;
    }
    if (!(await advance(listed.next, page.seen, page.counts.webhook, page.counts))) return summary("superseded");
    if (listed.next === null) break;
  }

  // Record level: the run's counts are the distinct objects it listed (pages of a keyset listing overlap).
  if (unit === "record") state = { ...state, ...(await countsOfRun(env.DB, source.name, runId)) };
  const ok = await finishRun(env.DB, {
    source: source.name,
    runId,
    prevText: text,
    state,
    status: "succeeded",
    historyDays: spec.historyDays,
    now: now(),
  });
  if (!ok) return summary("superseded");
  log("info", {
    event: "reconcile.succeeded",
    ...fields,
    pages: state.pages,
    records: state.recovered,
    listed: state.listed,
    received: state.received,
    missing: state.missing,
    ms: clock.now() - started,
  });
  return summary("succeeded");
}

/** A listed event that cannot stand for the webhook it replaces (wrong id, unsafe stream). */
class PageError extends Error {}

/**
 * One page: which listed events already have a receipt, and the missing ones sent to INGEST.
 * Resolves only once INGEST accepted every missing record.
 */
async function reconcilePage(env: ReconcileEnv, source: string, runId: string, window: ReconcileWindow, events: ListedEvent[], now: Date) {
  const inWindow = new Map<string, ListedEvent>();
  for (const e of events) {
    if (typeof e.eventId !== "string" || e.eventId === "") throw new PageError("a listed event has no id");
    const at = Date.parse(e.occurredAt);
    if (Number.isNaN(at)) throw new PageError(`event ${e.eventId.slice(0, 80)} has no valid time (${String(e.occurredAt).slice(0, 40)})`);
    if (contains(window, e.occurredAt)) inWindow.set(e.eventId, { ...e, occurredAt: new Date(at).toISOString() });
  }
  const receipts = await recordLedger(env).receiptsOf(source, [...inWindow.keys()]);
  const receivedAt = now.toISOString();
  const byStream = new Map<string, BundleRecord[]>();
  const seen: SeenEvent[] = [];
  const counts = { webhook: 0, reconcile: 0, missing: 0 };
  for (const e of inWindow.values()) {
    const receipt = receipts.get(e.eventId);
    if (receipt) {
      const outcome = receipt === "reconcile" ? "reconcile" : "webhook";
      counts[outcome]++;
      seen.push({ eventId: e.eventId, occurredAt: e.occurredAt, outcome });
      continue;
    }
    const got = e.recovered ?? (e.load ? await e.load() : null);
    if (!got) {
      counts.missing++;
      seen.push({ eventId: e.eventId, occurredAt: e.occurredAt, outcome: "missing" });
      continue;
    }
    if (got.record.eventId !== e.eventId) {
      throw new PageError(`listed event ${e.eventId.slice(0, 80)} became a record with event id ${got.record.eventId.slice(0, 80)}`);
    }
    if (!isSafeSegment(got.record.stream))
      throw new PageError(`stream name ${JSON.stringify(got.record.stream.slice(0, 64))} is not a safe key segment`);
    const envelopes = await recordsToEnvelopes({ source, pattern: "reconcile", receivedAt, runId }, [got.record], got.text);
    for (const [stream, list] of envelopes) byStream.set(stream, [...(byStream.get(stream) ?? []), ...list]);
    counts.reconcile++;
    seen.push({ eventId: e.eventId, occurredAt: e.occurredAt, outcome: "reconcile" });
  }
  for (const [stream, list] of byStream) {
    await enqueueRecords(env, { source, stream, pattern: "reconcile", received_at: receivedAt, run_id: runId }, list);
  }
  return { seen, counts };
}

function listingBaseUrl(source: SourceDefinition, spec: ReconcileListing, env: Record<string, unknown>): string {
  const base = spec.baseUrl ?? source.baseUrl;
  if (!base) throw new PollFailure(`source ${source.name} has no base URL for its listing`);
  return baseUrlOf({ name: source.name, baseUrl: base }, env);
}

function configValues(env: Record<string, unknown>, spec: Listing): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of spec.config ?? []) {
    const value = env[name];
    if (typeof value !== "string" || value === "") throw new PollFailure(`${name} is not set: the listing needs it`);
    out[name] = value;
  }
  return out;
}
