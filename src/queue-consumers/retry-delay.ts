/**
 * Exponential backoff with full jitter: a random delay between zero and the exponential cap, so
 * that retries after a shared outage spread out instead of arriving together.
 */
export function retryDelaySeconds(attempts: number, random: () => number = Math.random, capSeconds = 300): number {
  const ceiling = Math.min(capSeconds, 2 ** Math.min(attempts, 16));
  return Math.max(1, Math.round(ceiling * random()));
}
