import { redact } from "../lib/log";
import type { Clock } from "./clock";
import type { RateGate } from "./rate-gate";
import { type BackoffOptions, backoffMs, isRetryableStatus, requestedWaitMs } from "./retry";
import type { Credentials, PageRequest, PollAuth, QuotaSpec, ThrottleHooks } from "./types";

/** A failure that retrying cannot fix: the run fails with this message (already redacted). */
export class PollFailure extends Error {}

/** The source's quota is spent (its `quota` spec matched): the run ends as paused, not failed. */
export class QuotaExhausted extends PollFailure {}

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
  /** The source's own throttle signals (quota errors in bodies, usage headers). */
  throttle?: ThrottleHooks;
  /** The source's "quota spent" answer (see QuotaSpec). */
  quota?: QuotaSpec;
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
 * One page as text; see `openPage` for what happens on the way.
 */
export async function fetchPage(ctx: HttpContext, req: PageRequest): Promise<HttpResult> {
  const opened = await openPage(ctx, req);
  return { status: opened.status, headers: opened.headers, text: await opened.response.text(), url: opened.url };
}

export interface OpenedPage {
  status: number;
  headers: Headers;
  /** The answer with its body unread, for callers that stream it (large exports). */
  response: Response;
  url: string;
}

/**
 * Sends one request (GET, or the request's method and body): takes a rate slot, retries
 * 429/502/503/504, network errors and what the source's throttle classifier calls a throttle, with
 * backoff and jitter (honouring the vendor's requested wait), refreshes credentials once on a 401,
 * and fails on any other 4xx/5xx with the URL (redacted), status and the start of the body. Statuses
 * in `acceptStatuses` come back as answers. The body is left unread.
 */
export async function openPage(ctx: HttpContext, req: PageRequest): Promise<OpenedPage> {
  const doFetch = ctx.fetch ?? globalThis.fetch.bind(globalThis);
  const method = req.method ?? "GET";
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
    // A next link is the vendor's data: never send our credentials to a host it names.
    if (url.origin !== new URL(ctx.baseUrl).origin) throw new PollFailure(`refusing to follow a link to another origin: ${url.origin}`);
    let response: Response | undefined;
    let networkError: unknown;
    ctx.budget.subrequests++;
    const headers: Record<string, string> = { accept: "application/json", ...req.headers, ...creds.headers };
    if (req.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
      headers["content-type"] = "application/json";
    }
    try {
      response = await doFetch(url.toString(), { method, headers, ...(req.body !== undefined ? { body: req.body } : {}) });
    } catch (err) {
      networkError = err;
    }
    if (response?.ok || (response && req.acceptStatuses?.includes(response.status))) {
      const slowDown = ctx.throttle?.usage?.(response.headers, ctx.clock.now());
      if (slowDown && slowDown > 0) {
        ctx.onWait?.(slowDown, "usage");
        await ctx.gate.pause(slowDown);
      }
      return { status: response.status, headers: response.headers, response, url: shown() };
    }
    if (response?.status === 401 && ctx.auth?.refreshable && !refreshed) {
      await response.body?.cancel();
      refreshed = true;
      fresh = true;
      continue;
    }
    fresh = false;
    let verdict: { waitMs?: number; reason: string } | undefined;
    let bodyText: string | undefined;
    if (response && ctx.quota && response.status === ctx.quota.status) {
      bodyText = await response.text();
      if (bodyText.includes(ctx.quota.bodyIncludes)) {
        throw new QuotaExhausted(redact(`${method} ${shown()} answered ${response.status}: ${bodyText.slice(0, BODY_PREVIEW)}`, secrets));
      }
    }
    if (response && ctx.throttle?.classify) {
      bodyText ??= await response.text();
      verdict = ctx.throttle.classify({ status: response.status, headers: response.headers, text: bodyText }, ctx.clock.now());
    }
    if (response && !verdict && !isRetryableStatus(response.status)) {
      const body = (bodyText ?? (await response.text())).slice(0, BODY_PREVIEW);
      throw new PollFailure(redact(`${method} ${shown()} answered ${response.status}: ${body}`, secrets));
    }
    const reason = verdict
      ? `status ${response?.status}: ${verdict.reason}`
      : response
        ? `status ${response.status}`
        : `network error: ${networkError instanceof Error ? networkError.message : String(networkError)}`;
    const requested = verdict?.waitMs ?? (response ? requestedWaitMs(response.headers, ctx.clock.now()) : undefined);
    if (bodyText === undefined) await response?.body?.cancel();
    if (ctx.budget.retriesLeft <= 0) throw new PollFailure(redact(`${method} ${shown()}: retry budget spent (last: ${reason})`, secrets));
    ctx.budget.retriesLeft--;
    const delay = backoffMs(attempt++, requested, ctx.backoff);
    if (response?.status === 429 || verdict) await ctx.gate.pause(requested ?? delay);
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
