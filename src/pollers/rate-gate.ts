import type { RateLimitSpec } from "./types";

/**
 * Rate limiting by reservation: each request takes the next free slot of its source's schedule,
 * slots spaced evenly at the allowed rate, and waits until its slot. Evenly spaced slots can never
 * put more than the allowed count in any window, however many workers share the schedule, and
 * they use the whole allowance (a token bucket would allow a burst at the start of each window).
 */
export class SlotSchedule {
  private readonly next = new Map<string, number>();

  /** Reserves a slot; returns how long to wait for it (ms). */
  reserve(key: string, nowMs: number, intervalMs: number): number {
    const slot = Math.max(nowMs, this.next.get(key) ?? 0);
    this.next.set(key, slot + intervalMs);
    if (this.next.size > 1000) this.forgetIdle(nowMs);
    return slot - nowMs;
  }

  /** After a 429 every worker of the source waits: no slot is handed out before `untilMs`. */
  pause(key: string, untilMs: number): void {
    this.next.set(key, Math.max(this.next.get(key) ?? 0, untilMs));
  }

  private forgetIdle(nowMs: number): void {
    for (const [key, at] of this.next) if (at < nowMs) this.next.delete(key);
  }
}

/** What a poll run needs from the limiter. Both calls take and return times relative to now. */
export interface RateGate {
  /** ms to wait before the next request may go out. */
  reserve(): Promise<number>;
  /** Hold back every worker of this source for `ms`. */
  pause(ms: number): Promise<void>;
}

/**
 * How much later than another request one may reach the vendor and the cap still hold: a timer
 * firing late, the Durable Object's answer arriving later, the network. Requests leave at their
 * slots or after, never before, so only this difference can bunch them at the vendor.
 */
export const JITTER_TOLERANCE_MS = 250;

/**
 * Spacing between requests: the budget (`fraction` of the cap) and never closer than lets the
 * vendor see more than its cap in any window of its period. The vendor counts arrivals: cap + 1
 * consecutive requests leave at least cap × interval apart and arrive at least that minus the
 * jitter apart, so with cap × interval > period + jitter no window of one period holds more than
 * the cap (a 2% margin let a 5/s vendor see 6 within 969 ms once one request arrived 51 ms late).
 */
export function slotIntervalMs(cap: RateLimitSpec, fraction: number, jitterMs = JITTER_TOLERANCE_MS): number {
  const periodMs = cap.perSeconds * 1000;
  const budget = periodMs / (cap.requests * fraction);
  // +1 ms: cap + 1 requests then span more than the period, so inclusive windows hold the cap too.
  const underTheCap = (periodMs + jitterMs + 1) / cap.requests;
  return Math.max(budget, underTheCap);
}

export function parseFraction(value: unknown): number {
  const n = Number(value ?? 0.5);
  if (!Number.isFinite(n) || n <= 0 || n > 1) return 0.5;
  return n;
}

/** One schedule per isolate: enough for a single process (bench, a script); Workers use the Durable Object. */
const local = new SlotSchedule();

export function localGate(key: string, intervalMs: number, clock: { now(): number }, schedule = local): RateGate {
  return {
    reserve: async () => schedule.reserve(key, clock.now(), intervalMs),
    pause: async (ms) => schedule.pause(key, clock.now() + ms),
  };
}

/** A gate that never waits, for sources that publish no cap. */
export const openGate: RateGate = { reserve: async () => 0, pause: async () => {} };
