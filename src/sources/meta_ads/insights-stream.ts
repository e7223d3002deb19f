import type { Span } from "../../envelope/json-spans";
import { arraySpansAt, scalarTextAt, valueAt } from "../../pollers/json-path";
import type { PollStream, StepContext, StepRecord, StepResult } from "../../pollers/types";
import { accountsFrom, attributionWindow, type InsightsReport, LEVEL_KEY } from "./insights";

/** Rows per results page (Graph's insights paging). */
const PAGE_LIMIT = 500;
/** Waits between status checks of a running job: 15 s, doubling, at most 5 minutes. */
const FIRST_CHECK_MS = 15_000;
const MAX_CHECK_MS = 5 * 60_000;
/** A job that fails or is skipped is started again this many times before the account is given up. */
const JOB_ATTEMPTS = 2;

export interface JobSettings {
  /** A job still unfinished after this long is abandoned (META_ADS_JOB_TIMEOUT_MINUTES, default 60). */
  timeoutMs: number;
}

interface Job {
  id: string;
  startedAt: number;
  checks: number;
  attempt: number;
  status?: string;
  percent?: number;
}

/** The run's position, kept in D1 between invocations: the window, the accounts, the job in flight. */
interface InsightsState {
  since: string;
  until: string;
  accounts: string[];
  i: number;
  phase: "start" | "wait" | "page";
  job?: Job;
  after?: string;
  pages: number;
  failures: string[];
}

function timeoutMs(env: Record<string, unknown>): number {
  const n = Number(env.META_ADS_JOB_TIMEOUT_MINUTES);
  return (Number.isFinite(n) && n > 0 ? n : 60) * 60_000;
}

/**
 * Ad insights through Meta's asynchronous report jobs, as a nightly full refresh of the trailing
 * attribution window (META_ADS_ATTRIBUTION_DAYS, default 28) into a new snapshot partition per run.
 * Per ad account: start the job (`POST /act_<id>/insights`), check `async_status` on later
 * invocations (delayed continuations — never a sleeping Worker; the job id lives in runs.state),
 * then page the results by cursor. A job that fails or is skipped is started once more; a job
 * that runs past the timeout is abandoned. Those accounts are recorded with their error and the
 * run fails (without a manifest) after the other accounts are done.
 */
export function insightsStream(report: InsightsReport): PollStream {
  return {
    name: report.name,
    path: "insights",
    records: "data",
    primaryKey: [LEVEL_KEY[report.level], "date_start"],
    pagination: { style: "none" },
    intervalMinutes: 0,
    fullRefresh: true,
    steps: {
      step: async (ctx, raw) => {
        let state = raw as InsightsState | undefined;
        if (!state) {
          const accounts = accountsFrom(ctx.env);
          if (accounts.length === 0) return { next: "fail", error: "META_ADS_ACCOUNT_IDS is not set: no ad account to report on" };
          state = { ...attributionWindow(ctx.now(), ctx.env), accounts, i: 0, phase: "start", pages: 0, failures: [] };
        }
        if (state.phase === "start") return startJob(ctx, report, state);
        if (state.phase === "wait") return checkJob(ctx, state);
        return resultsPage(ctx, report, state);
      },
    },
  };
}

async function startJob(ctx: StepContext, report: InsightsReport, state: InsightsState): Promise<StepResult> {
  const account = state.accounts[state.i] as string;
  const form = new URLSearchParams({
    level: report.level,
    fields: report.fields.join(","),
    time_range: JSON.stringify({ since: state.since, until: state.until }),
    time_increment: "1",
    action_attribution_windows: JSON.stringify(report.attributionWindows),
  });
  const { text } = await ctx.fetch({
    method: "POST",
    url: `${account}/insights`,
    query: {},
    body: form.toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  const id = valueAt(safeJson(text), "report_run_id");
  if (typeof id !== "string" && typeof id !== "number") {
    return nextAccount(state, `${account}: the job was not started (no report_run_id in ${text.slice(0, 200)})`);
  }
  const attempt = (state.job?.attempt ?? 0) + 1;
  const job: Job = { id: String(id), startedAt: ctx.now(), checks: 0, attempt };
  ctx.log("info", "meta_ads.job_started", { account, report_run_id: job.id, attempt, since: state.since, until: state.until });
  return { next: "later", delayMs: FIRST_CHECK_MS, state: { ...state, phase: "wait", job } satisfies InsightsState };
}

async function checkJob(ctx: StepContext, state: InsightsState): Promise<StepResult> {
  const account = state.accounts[state.i] as string;
  const job = state.job as Job;
  const { text } = await ctx.fetch({ url: job.id, query: { fields: "id,async_status,async_percent_completion" } });
  const body = safeJson(text);
  const status = String(valueAt(body, "async_status") ?? "unknown");
  const percent = Number(valueAt(body, "async_percent_completion") ?? 0);
  const seen: Job = { ...job, checks: job.checks + 1, status, percent };

  if (status === "Job Completed") {
    ctx.log("info", "meta_ads.job_completed", { account, report_run_id: job.id, checks: seen.checks, ms: ctx.now() - job.startedAt });
    return { next: "step", state: { ...state, phase: "page", job: seen, after: undefined, pages: 0 } satisfies InsightsState };
  }
  if (status === "Job Failed" || status === "Job Skipped") {
    const error = `${account}: report run ${job.id} ended "${status}" at ${percent}% (attempt ${job.attempt} of ${JOB_ATTEMPTS})`;
    ctx.log("warn", "meta_ads.job_failed", { account, report_run_id: job.id, error });
    if (job.attempt < JOB_ATTEMPTS) return { next: "step", state: { ...state, phase: "start", job: seen } satisfies InsightsState };
    return nextAccount({ ...state, job: seen }, error);
  }
  const elapsed = ctx.now() - job.startedAt;
  if (elapsed >= timeoutMs(ctx.env)) {
    const error = `${account}: report run ${job.id} timed out after ${Math.round(elapsed / 60_000)} min, still "${status}" at ${percent}%`;
    ctx.log("warn", "meta_ads.job_timed_out", { account, report_run_id: job.id, error });
    return nextAccount({ ...state, job: seen }, error);
  }
  const delayMs = Math.min(MAX_CHECK_MS, FIRST_CHECK_MS * 2 ** seen.checks);
  return { next: "later", delayMs, state: { ...state, job: seen } satisfies InsightsState };
}

async function resultsPage(ctx: StepContext, report: InsightsReport, state: InsightsState): Promise<StepResult> {
  const account = state.accounts[state.i] as string;
  const job = state.job as Job;
  const query: Record<string, string> = { limit: String(PAGE_LIMIT), ...(state.after ? { after: state.after } : {}) };
  const { text } = await ctx.fetch({ url: `${job.id}/insights`, query });
  const where = `${account}, report run ${job.id}, page ${state.pages + 1}`;
  let json: unknown;
  let spans: Span[];
  try {
    json = JSON.parse(text);
    spans = arraySpansAt(text, "data");
  } catch (err) {
    return {
      next: "fail",
      error: `${where}: the answer has no data array (${(err as Error).message}); first bytes: ${text.slice(0, 120)}`,
    };
  }
  const keyPaths = [LEVEL_KEY[report.level], "date_start"];
  const records: StepRecord[] = [];
  for (const [n, span] of spans.entries()) {
    const parts = keyPaths.map((p) => scalarTextAt(text, span, p));
    if (parts.some((p) => p === undefined)) return { next: "fail", error: `${where}: row ${n} has no ${keyPaths.join(" or ")}` };
    records.push({ key: parts.join("|"), json: text.slice(span[0], span[1]) });
  }
  await ctx.emit(records);
  const after = valueAt(json, "paging.cursors.after");
  const more = typeof valueAt(json, "paging.next") === "string" && typeof after === "string" && after !== "" && spans.length > 0;
  if (more) {
    if (after === state.after) return { next: "fail", error: `${where}: the same after-cursor came back; stopping rather than looping` };
    return { next: "step", state: { ...state, after, pages: state.pages + 1 } satisfies InsightsState };
  }
  return nextAccount(state);
}

/** The account is done (or given up with `error`): on to the next one, or the end of the run. */
function nextAccount(state: InsightsState, error?: string): StepResult {
  const failures = error ? [...state.failures, error] : state.failures;
  if (state.i + 1 < state.accounts.length) {
    const next: InsightsState = { ...state, i: state.i + 1, phase: "start", job: undefined, after: undefined, pages: 0, failures };
    return { next: "step", state: next };
  }
  if (failures.length > 0) return { next: "fail", error: `insights jobs failed: ${failures.join("; ")}` };
  return { next: "done" };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
