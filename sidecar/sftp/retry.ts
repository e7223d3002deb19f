export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 500, capMs: 30_000 };

/** Exponential backoff with full jitter: a random wait in [0, min(cap, base·2^attempt)). */
export function jitterMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30)));
}

/** An error that retrying cannot fix (a refused file, a wrong host key). */
export class PermanentError extends Error {}

/** Runs `work` until it succeeds, a PermanentError is thrown, or the attempts are spent. */
export async function withRetry<T>(
  what: string,
  policy: RetryPolicy,
  work: (attempt: number) => Promise<T>,
  onRetry: (attempt: number, err: unknown, waitMs: number) => void = () => {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work(attempt);
    } catch (err) {
      if (err instanceof PermanentError || attempt + 1 >= policy.attempts) throw err;
      const wait = jitterMs(attempt, policy);
      onRetry(attempt, err, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  // biome-ignore lint/correctness/noUnreachable: the loop only exits by return or throw
  throw new Error(`${what}: unreachable`);
}
