/** Which answers are worth another try: throttling and the gateway errors of an overloaded vendor. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/**
 * How long the vendor asked us to wait, in ms: `Retry-After` (seconds or an HTTP date),
 * `RateLimit-Reset` (seconds from now, IETF draft) or `X-RateLimit-Reset` (seconds from now, or a
 * Unix time in seconds or ms when the number is that large). Undefined when none is usable.
 */
export function requestedWaitMs(headers: Headers, nowMs: number): number | undefined {
  const retryAfter = headers.get("retry-after")?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - nowMs);
  }
  for (const name of ["ratelimit-reset", "x-ratelimit-reset"]) {
    const value = headers.get(name)?.trim();
    if (!value || !/^\d+(\.\d+)?$/.test(value)) continue;
    const n = Number(value);
    if (n > 1e12) return Math.max(0, n - nowMs);
    if (n > 1e9) return Math.max(0, n * 1000 - nowMs);
    return n * 1000;
  }
  return undefined;
}

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  /** "full" (default): random in (0, ceiling]. "none": the ceiling itself, for the benchmark's baseline. */
  jitter?: "full" | "none";
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: attempt n waits a random time in (0, min(cap, base·2^n)].
 * When the vendor named a wait, we wait at least that long plus a random share of the backoff,
 * so that workers told the same Retry-After do not all return in the same instant. `1 - random()`
 * lies in (0, 1], so the jitter is never zero.
 */
export function backoffMs(attempt: number, requestedMs: number | undefined, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 500;
  const cap = options.capMs ?? 60_000;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 20));
  const share = options.jitter === "none" ? 1 : 1 - (options.random ?? Math.random)();
  const jitter = ceiling * share;
  return requestedMs === undefined ? jitter : requestedMs + jitter;
}
