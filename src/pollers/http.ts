import { redact } from "../lib/log";
import type { Clock } from "./clock";
import type { RateGate } from "./rate-gate";
import { type BackoffOptions, backoffMs, isRetryableStatus, requestedWaitMs } from "./retry";
import type { Credentials, PageRequest, PollAuth } from "./types";

/** A failure that retrying cannot fix: the run fails with this message (already redacted). */
export class PollFailure extends Error {}

/** The vendor asked for a wait longer than is worth holding a Worker for: continue later. */
export class DeferRun extends Error {
  constructor(readonly delayMs: number) {
    super(`vendor asked to wait ${Math.round(delayMs)} ms`);
  }
}

/** Counts shared by every request of one run (retries) and of one invocation (subrequests). */
export interface RequestBudget {
  retriesLeft: number;
  subrequests: number;
}

export interface HttpContext {
  baseUrl: string;
  env: Record<string, unknown>;
  auth?: PollAuth;
  gate: RateGate;
  clock: Clock;
  budget: RequestBudget;
  backoff?: BackoffOptions;
  /** Waits longer than this are not slept through: the run is deferred (default 30 s). */
  maxInlineWaitMs?: number;
  fetch?: typeof fetch;
  /** Called with every wait (ms) and its reason, for logs and tests. */
  onWait?: (ms: number, reason: string) => void;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  url: string;
}

/** The request's absolute URL: relative paths join the base URL, and credentials in the query are added. */
export function requestUrl(baseUrl: string, req: PageRequest, extraQuery: Record<string, string> = {}): URL {
  const url = /^https?:\/\//i.test(req.url)
    ? new URL(req.url)
    : new URL(req.url.replace(/^\//, ""), baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  for (const [k, v] of Object.entries({ ...req.query, ...extraQuery })) url.searchParams.set(k, v);
  return url;
}

const BODY_PREVIEW = 300;

/**
 * GET one page: takes a rate slot, retries 429/502/503/504 and network errors with backoff and
 * jitter (honouring the vendor's requested wait), refreshes credentials once on a 401, and fails
 * on any other 4xx/5xx with the URL (redacted), status and the start of the body.
 */
export async function fetchPage(ctx: HttpContext, req: PageRequest): Promise<HttpResult> {
  const doFetch = ctx.fetch ?? globalThis.fetch.bind(globalThis);
  let attempt = 0;
  let fresh = false;
  let refreshed = false;
  let secrets: string[] = [];
  for (;;) {
    const wait = await ctx.gate.reserve();
    ctx.budget.subrequests++;
    if (wait > (ctx.maxInlineWaitMs ?? 30_000)) throw new DeferRun(wait);
    if (wait > 0) {
      ctx.onWait?.(wait, "rate");
      await ctx.clock.sleep(wait);
    }
    const creds: Credentials = ctx.auth ? await ctx.auth.credentials(ctx.env, { fresh }) : { secrets: [] };
    secrets = creds.secrets;
    const url = requestUrl(ctx.baseUrl, req, creds.query);
    const shown = () => redact(safeUrl(url, creds), secrets);
    let response: Response | undefined;
    let networkError: unknown;
    ctx.budget.subrequests++;
    try {
      response = await doFetch(url.toString(), { method: "GET", headers: { accept: "application/json", ...creds.headers } });
    } catch (err) {
      networkError = err;
    }
    if (response?.ok) return { status: response.status, headers: response.headers, text: await response.text(), url: shown() };
    if (response?.status === 401 && ctx.auth?.refreshable && !refreshed) {
      await response.body?.cancel();
      refreshed = true;
      fresh = true;
      continue;
    }
    fresh = false;
    if (response && !isRetryableStatus(response.status)) {
      const body = (await response.text()).slice(0, BODY_PREVIEW);
      throw new PollFailure(redact(`GET ${shown()} answered ${response.status}: ${body}`, secrets));
    }
    const reason = response
      ? `status ${response.status}`
      : `network error: ${networkError instanceof Error ? networkError.message : String(networkError)}`;
    const requested = response ? requestedWaitMs(response.headers, ctx.clock.now()) : undefined;
    await response?.body?.cancel();
    if (ctx.budget.retriesLeft <= 0) throw new PollFailure(redact(`GET ${shown()}: retry budget spent (last: ${reason})`, secrets));
    ctx.budget.retriesLeft--;
    const delay = backoffMs(attempt++, requested, ctx.backoff);
    if (response?.status === 429) await ctx.gate.pause(requested ?? delay);
    if (delay > (ctx.maxInlineWaitMs ?? 30_000)) throw new DeferRun(delay);
    ctx.onWait?.(delay, reason);
    await ctx.clock.sleep(delay);
  }
}

/** The URL as it may appear in an error: credentials passed in the query are masked. */
function safeUrl(url: URL, creds: Credentials): string {
  const copy = new URL(url.toString());
  for (const k of Object.keys(creds.query ?? {})) copy.searchParams.set(k, "[redacted]");
  return copy.toString();
}
