import type { Pattern } from "../envelope/envelope";
import { redact } from "../lib/log";
import type { Clock } from "./clock";
import { baseUrlOf, prepareRun } from "./configuration";
import { baseRequest, pageCursor } from "./cursor";
import { DeferRun, fetchPage, type HttpContext, PollFailure, QuotaExhausted, requestUrl } from "./http";
import { keysetStyle } from "./keyset";
import { MalformedPage, type ParsedPage, parsePage, type RoutedRecord, routedEnvelopes } from "./page-records";
import { PaginationError, paginationStyle } from "./pagination";
import type { RateGate } from "./rate-gate";
import type { RunPattern } from "./run-store";
import type { NextPage, PageRequest, PageResponse, PaginationContext, PaginationStyle, PollSource, PollStream } from "./types";

/** What a paged read works out from its source before the first request. */
export interface PagePlan {
  style: PaginationStyle;
  ctx: PaginationContext;
  first: PageRequest;
  baseUrl: string;
  gate: RateGate;
}

/**
 * The plan of a paged read (a run, or a test read of one page), or why the source cannot be read:
 * its configuration problem, or whatever reading its settings threw (see `prepareRun`).
 */
export function planPages(
  env: Record<string, unknown>,
  source: PollSource,
  stream: PollStream,
  pattern: RunPattern,
  cursorFrom: string | null,
  gate: () => RateGate,
): { value: PagePlan } | { error: string } {
  return prepareRun(source, env, () => {
    const style =
      pattern === "poll" && stream.cursor?.keyset && stream.cursor.ascending
        ? keysetStyle(paginationStyle(stream.pagination), stream.cursor.param)
        : paginationStyle(stream.pagination);
    const ctx = { pageSize: stream.pageSize ?? 100, env };
    const first = style.first(baseRequest(stream.path, stream.params, pattern === "poll" ? stream.cursor : undefined, cursorFrom), ctx);
    return { style, ctx, first, baseUrl: baseUrlOf(source, env), gate: gate() };
  });
}

/** One page, read and turned into envelopes; nothing is sent or stored. */
export interface PageRead {
  kind: "page";
  request: PageRequest;
  /** `page N (GET <url>)`, redacted: where errors say they happened. */
  position: string;
  text: string;
  headers: Headers;
  parsed: ParsedPage;
  routed: RoutedRecord[];
  receivedAt: string;
  /** The highest cursor value on the page (or its sync token); null without a cursor. */
  pageMax: string | null;
  /** Where the next page is (null: the stream is done), or why the page's pagination cannot be followed. */
  next: { page: NextPage } | { error: string };
}

/** The page could not be read: the run fails (or pauses, when the vendor's quota is spent). */
export interface PageFailed {
  kind: "failed";
  error: string;
  status: "failed" | "paused";
}

/** The vendor asked for a wait longer than an invocation holds: read the page later. */
export interface PageDeferred {
  kind: "deferred";
  delayMs: number;
}

export interface PageInput {
  http: HttpContext;
  plan: PagePlan;
  source: PollSource;
  stream: PollStream;
  pattern: RunPattern;
  runId: string;
  clock: Clock;
  /** The continuation from the previous page; none for the first page. */
  next?: Exclude<NextPage, null>;
  /** The page's number in the run (1-based), for the position in errors. */
  pageNumber: number;
  /** The pattern the envelopes carry when it is not the run's (a reconciliation reading a poll stream). */
  envelopePattern?: Pattern;
}

/**
 * Reads one page the way every paged run does: fetch (rate slot, retries, credentials), parse, find
 * the records, build their envelopes, and work out the next page. The caller decides what happens
 * to the envelopes: a run enqueues them and checkpoints; a test read only shows them.
 */
export async function readPage(p: PageInput): Promise<PageRead | PageFailed | PageDeferred> {
  const { http, plan, stream, pattern } = p;
  const request = p.next ? plan.style.apply(plan.first, p.next) : plan.first;
  const position = `page ${p.pageNumber} (${request.method ?? "GET"} ${redact(requestUrl(plan.baseUrl, request).toString())})`;
  let text: string;
  let headers: Headers;
  try {
    ({ text, headers } = await fetchPage(http, request));
  } catch (err) {
    if (err instanceof DeferRun) return { kind: "deferred", delayMs: err.delayMs };
    if (err instanceof QuotaExhausted)
      return { kind: "failed", error: `${position}: quota spent, paused: ${err.message}`, status: "paused" };
    if (err instanceof PollFailure) return { kind: "failed", error: `${position}: ${err.message}`, status: "failed" };
    throw err;
  }

  let parsed: ParsedPage;
  try {
    parsed = parsePage(stream, text, position);
  } catch (err) {
    if (err instanceof MalformedPage) return { kind: "failed", error: err.message, status: "failed" };
    throw err;
  }
  const receivedAt = new Date(p.clock.now()).toISOString();
  let routed: RoutedRecord[];
  try {
    routed = await routedEnvelopes(
      { source: p.source.name, stream, pattern: p.envelopePattern ?? (pattern as Pattern), receivedAt, runId: p.runId },
      text,
      parsed,
    );
  } catch (err) {
    if (err instanceof MalformedPage) return { kind: "failed", error: `${position}: ${err.message}`, status: "failed" };
    throw err;
  }

  const cursorSpec = pattern === "poll" ? stream.cursor : undefined;
  const pageMax = cursorSpec ? pageCursor(cursorSpec, parsed.cursorValues, parsed.json) : null;
  const response: PageResponse = {
    status: 200,
    headers,
    text,
    json: parsed.json,
    count: parsed.spans.length,
    firstKey: parsed.keys[0],
    lastKey: parsed.keys[parsed.keys.length - 1],
    firstCursor: parsed.cursorValues[0],
    maxCursor: pageMax ?? undefined,
  };
  let next: PageRead["next"];
  try {
    next = { page: plan.style.next(response, request, plan.ctx) };
  } catch (err) {
    if (!(err instanceof PaginationError)) throw err;
    next = { error: `${position}: ${err.message}` };
  }
  return { kind: "page", request, position, text, headers, parsed, routed, receivedAt, pageMax, next };
}
