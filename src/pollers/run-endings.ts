import { log, redact } from "../lib/log";
import type { Clock } from "./clock";
import type { PollEnv, PollJob, StepOutcome } from "./run-poll";
import { finishRun, type RunPattern, type RunState } from "./run-store";
import type { PollSource, PollStream } from "./types";

/** Longest wait handed to the queue as a delayed continuation (a run's heartbeat must stay fresh). */
export const MAX_DEFER_MS = 15 * 60_000;

export interface RunContext {
  env: PollEnv;
  source: PollSource;
  stream: PollStream;
  pattern: RunPattern;
  runId: string;
  clock: Clock;
  /** The run's state as it stands now (the runners advance it page by page or step by step). */
  current: () => { state: RunState; stateText: string };
}

/**
 * The two ways a step ends short of success, shared by the page runner and the stepped runner:
 * `fail` closes the run without moving the cursor further (failed, or paused when the vendor's
 * quota is spent); `handOver` re-enqueues the run's continuation, now or after a delay.
 */
export function runEndings(c: RunContext) {
  const scope = { source: c.source.name, stream: c.stream.name, pattern: c.pattern, runId: c.runId };
  const fields = { source: c.source.name, stream: c.stream.name, pattern: c.pattern, run_id: c.runId };
  const interval = c.stream.intervalMinutes ?? 15;

  const fail = async (error: string, status: "failed" | "paused" = "failed"): Promise<StepOutcome> => {
    const { state, stateText } = c.current();
    const message = redact(error).slice(0, 2000);
    const again = status === "paused" ? (c.source.quota?.resumeAfterMinutes ?? interval) : interval;
    await finishRun(
      c.env.DB,
      scope,
      stateText,
      state,
      { status, error: message, intervalMinutes: again, moveCursor: null },
      new Date(c.clock.now()),
    );
    log(status === "paused" ? "warn" : "error", {
      event: `poll.${status}`,
      ...fields,
      records: state.records,
      pages: state.pages,
      error: message,
    });
    return { status, runId: c.runId, pages: state.pages, records: state.records, error: message };
  };

  const handOver = async (delayMs = 0): Promise<StepOutcome> => {
    const { state } = c.current();
    const next: PollJob = { kind: c.pattern, source: c.source.name, stream: c.stream.name, run_id: c.runId, page: state.pages + 1 };
    const delaySeconds = Math.min(Math.ceil(delayMs / 1000), MAX_DEFER_MS / 1000);
    await c.env.JOBS.send(next, { contentType: "json", ...(delaySeconds > 0 ? { delaySeconds } : {}) });
    log("info", {
      event: delayMs > 0 ? "poll.deferred" : "poll.continued",
      ...fields,
      pages: state.pages,
      records: state.records,
      delay_s: delaySeconds,
    });
    return { status: delayMs > 0 ? "deferred" : "continued", runId: c.runId, pages: state.pages, records: state.records };
  };

  return { fail, handOver };
}
