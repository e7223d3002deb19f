import { errorText, log, redact } from "../lib/log";
import { type Clock, realClock } from "./clock";
import { configurationProblem } from "./configuration";
import { laterCursor, readCursor } from "./cursor";
import type { HttpContext } from "./http";
import { requestUrl } from "./http";
import { planPages, readPage } from "./read-page";
import { gateFor, type PollEnv } from "./run-poll";
import type { RunPattern } from "./run-store";
import type { NextPage, PollSource, PollStream } from "./types";

/** A test read is interactive: a few retries, and no wait a person would give up on. */
const TEST_READ_RETRIES = 3;
const TEST_READ_MAX_WAIT_MS = 10_000;

export interface TestReadOptions {
  pattern: RunPattern;
  /** The page to read: a continuation printed by an earlier test read; none = the run's first page. */
  next?: Exclude<NextPage, null>;
  /** Read from this cursor value instead of the stored one (null: as if none were stored). */
  cursor?: string | null;
}

export interface TestReadPage {
  source: string;
  stream: string;
  pattern: RunPattern;
  /** The request as sent (credentials masked). */
  request: string;
  /** The stream's cursor: the value the read started from, and where a run would move it after this page. */
  cursor: { from: string | null; to: string | null } | null;
  records: number;
  /** Records per stream they would be filed under (a stream's `describe` may route some elsewhere). */
  streams: Record<string, number>;
  /** Each envelope exactly as the raw writer would write it: one JSONL line. */
  lines: string[];
  /** The continuation to the next page (pass it back as `next`), or null when this was the last page. */
  next: Exclude<NextPage, null> | null;
  /** Why the next page could not be worked out (a run would fail here, after landing this page). */
  next_error?: string;
  ms: number;
}

export type TestReadOutcome =
  | { kind: "page"; page: TestReadPage }
  | { kind: "unknown"; error: string }
  | { kind: "refused"; error: string }
  | { kind: "not_configured"; error: string; missing: string[] }
  | { kind: "failed"; error: string };

/**
 * One page of a paged stream, read exactly as a run reads it (the same plan, HTTP client, rate gate,
 * parsing and envelopes: `read-page.ts`), shown instead of landed: nothing is queued, no run is
 * recorded, no cursor moves, nothing is written to R2. The stored cursor is only read. A source
 * with rotating OAuth refresh tokens still keeps the token the vendor sent (or it would be lost).
 */
export async function testReadPage(
  env: PollEnv,
  source: PollSource,
  streamName: string,
  opts: TestReadOptions,
  deps: { clock?: Clock; fetch?: typeof fetch } = {},
): Promise<TestReadOutcome> {
  const clock = deps.clock ?? realClock;
  const stream: PollStream | undefined = source.streams?.find((s) => s.name === streamName);
  if (!stream) return { kind: "unknown", error: `source ${source.name} has no polled stream ${JSON.stringify(streamName)}` };
  if (stream.steps) {
    return {
      kind: "refused",
      error: `stream ${source.name}.${stream.name} is read in steps (report jobs, exports), not pages; test-read reads paged streams — use dock run`,
    };
  }
  const problem = configurationProblem(source, env);
  if (problem) return { kind: "not_configured", error: problem.error, missing: problem.missing };

  const { pattern } = opts;
  const cursorSpec = pattern === "poll" ? stream.cursor : undefined;
  const cursorFrom = !cursorSpec ? null : opts.cursor !== undefined ? opts.cursor : await readCursor(env.DB, source.name, stream.name);
  const plan = planPages(env, source, stream, pattern, cursorFrom, () => gateFor(env, source, stream, clock));
  if ("error" in plan) return { kind: "failed", error: plan.error };
  const runId = `test-read-${new Date(clock.now()).toISOString().replace(/[-:]/g, "").slice(0, 15)}-${crypto.randomUUID().slice(0, 8)}`;
  const fields = { source: source.name, stream: stream.name, pattern, run_id: runId };
  const http: HttpContext = {
    baseUrl: plan.value.baseUrl,
    env,
    auth: source.auth,
    gate: plan.value.gate,
    clock,
    budget: { retriesLeft: TEST_READ_RETRIES, subrequests: 0 },
    maxInlineWaitMs: TEST_READ_MAX_WAIT_MS,
    fetch: deps.fetch,
    throttle: source.throttle,
    quota: source.quota,
  };
  const started = clock.now();
  let read: Awaited<ReturnType<typeof readPage>>;
  try {
    read = await readPage({ http, plan: plan.value, source, stream, pattern, runId, clock, next: opts.next, pageNumber: 1 });
  } catch (err) {
    read = { kind: "failed", error: `source ${source.name}: ${errorText(err)}`, status: "failed" };
  }
  const ms = clock.now() - started;
  if (read.kind !== "page") {
    const error = redact(
      read.kind === "deferred"
        ? `the vendor asked to wait ${Math.ceil(read.delayMs / 1000)} s before the next request; try again then`
        : read.error,
    ).slice(0, 2000);
    log("warn", { event: "poll.test_read_failed", ...fields, records: 0, ms, error });
    return { kind: "failed", error };
  }

  const streams: Record<string, number> = {};
  for (const r of read.routed) streams[r.stream] = (streams[r.stream] ?? 0) + 1;
  const next = "page" in read.next ? read.next.page : null;
  const page: TestReadPage = {
    source: source.name,
    stream: stream.name,
    pattern,
    request: `${read.request.method ?? "GET"} ${redact(requestUrl(plan.value.baseUrl, read.request).toString())}`,
    cursor: cursorSpec ? { from: cursorFrom, to: laterCursor(cursorSpec, cursorFrom, read.pageMax) } : null,
    records: read.routed.length,
    streams,
    lines: read.routed.map((r) => r.record.line),
    next,
    ...("error" in read.next ? { next_error: redact(read.next.error) } : {}),
    ms,
  };
  log("info", { event: "poll.test_read", ...fields, records: page.records, ms });
  return { kind: "page", page };
}
