import type { HttpContext } from "../pollers/http";
import { DeferRun, fetchPage, openPage, PollFailure, QuotaExhausted } from "../pollers/http";
import { baseUrlOf, prepareRun } from "../pollers/configuration";
import type { RoutedRecord } from "../pollers/page-records";
import { toEnvelopes } from "../pollers/stepped-run";
import type { Clock } from "../pollers/clock";
import type { PollStream, StepContext, StepRecord, StreamSteps } from "../pollers/types";
import { logStep, redact } from "../lib/log";
import type { SourceDefinition } from "../sources/define-source";

/** One step of a stepped poll stream read as a listing, or why it could not be read. */
export type SteppedListingStep =
  | { kind: "page"; position: string; routed: RoutedRecord[]; receivedAt: string; next: { state: unknown } | null }
  | { kind: "deferred"; delayMs: number }
  | { kind: "failed"; error: string };

/**
 * A stepped stream (code instead of pages, e.g. a describe then a query) read as a listing: one
 * step, run as an incremental poll from the window's start (`cursorFrom`), its records turned into
 * envelopes exactly as the poll runner turns them (same key, version, `_dock.id`) but marked
 * `reconcile`, and kept here instead of being sent. A step that asks to wait for a vendor job is
 * refused: a listing must answer from its cursor without one.
 */
export async function readSteppedListing(p: {
  env: Record<string, unknown>;
  source: SourceDefinition;
  stream: PollStream & { steps: StreamSteps };
  state: unknown;
  from: string;
  http: HttpContext;
  clock: Clock;
  runId: string;
  pageNumber: number;
}): Promise<SteppedListingStep> {
  const { env, source, stream, http, clock } = p;
  const setup = prepareRun(source, env, () => baseUrlOf(source, env));
  if ("error" in setup) return { kind: "failed", error: setup.error };
  http.baseUrl = setup.value;
  const position = `step ${p.pageNumber} of ${stream.name}`;
  const emitted: StepRecord[] = [];
  const ctx: StepContext = {
    env,
    runId: p.runId,
    pattern: "poll",
    now: () => clock.now(),
    cursorFrom: p.from,
    fetch: (req) => fetchPage(http, req),
    open: (req) => openPage(http, req),
    emit: async (records) => {
      emitted.push(...records);
    },
    log: (level, event, extra = {}) =>
      logStep(level, event, { source: source.name, stream: stream.name, pattern: "reconcile", run_id: p.runId }, extra),
  };
  let result: Awaited<ReturnType<StreamSteps["step"]>>;
  try {
    result = await stream.steps.step(ctx, p.state ?? undefined);
  } catch (err) {
    if (err instanceof DeferRun) return { kind: "deferred", delayMs: err.delayMs };
    if (err instanceof QuotaExhausted || err instanceof PollFailure)
      return { kind: "failed", error: `${position}: ${redact(err.message)}` };
    throw err;
  }
  if (result.next === "fail") return { kind: "failed", error: `${position}: ${result.error}` };
  if (result.next === "later") return { kind: "failed", error: `${position}: the stream asked to wait for a vendor job; a listing cannot` };
  const receivedAt = new Date(clock.now()).toISOString();
  const envelopes = await toEnvelopes(source.name, stream, "poll", receivedAt, p.runId, emitted, "reconcile");
  return {
    kind: "page",
    position,
    routed: envelopes.map((record) => ({ stream: stream.name, record })),
    receivedAt,
    next: result.next === "step" ? { state: result.state } : null,
  };
}
