import { describe, expect, it } from "vitest";
import { SlotSchedule, slotIntervalMs } from "../../src/pollers/rate-gate";
import type { RateLimitSpec } from "../../src/pollers/types";

/**
 * The vendor counts requests as they reach it, not as they leave our gate: a request can arrive
 * late (a timer firing late, the Durable Object's answer taking longer, the network), so two that
 * left a slot apart can arrive closer together. These tests put the jitter between the gate and
 * the vendor and count what the vendor sees, in every window of its period.
 */

/** How much later than another a request may arrive and the cap still hold (docs/polling.md). */
const JITTER_TOLERANCE_MS = 250;

/** Most requests in any half-open window [t, t + windowMs) — a sliding window as the vendor counts it. */
function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + windowMs) j++;
    max = Math.max(max, j - i);
  }
  return max;
}

/** A deterministic random number generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `jobs` poll jobs share one schedule, each reserving its next slot when its previous answer came
 * back (`latency` after its slot): the slot times the gate hands out, in the order they go out.
 */
function slotsOfSharedJobs(interval: number, jobs: number, requestsPerJob: number, latency: () => number): number[] {
  const schedule = new SlotSchedule();
  const readyAt = Array.from({ length: jobs }, (_, j) => 1_000_000 + j * 7);
  const left = Array.from({ length: jobs }, () => requestsPerJob);
  const slots: number[] = [];
  while (left.some((n) => n > 0)) {
    let j = -1;
    for (let k = 0; k < jobs; k++) if ((left[k] as number) > 0 && (j < 0 || (readyAt[k] as number) < (readyAt[j] as number))) j = k;
    const now = readyAt[j] as number;
    const slot = now + schedule.reserve("vendor", now, interval);
    slots.push(slot);
    left[j] = (left[j] as number) - 1;
    readyAt[j] = slot + latency();
  }
  return slots.sort((a, b) => a - b);
}

// The caps the sources declare, and the kind of cap a vendor publishes per minute or hour.
const CAPS: RateLimitSpec[] = [
  { requests: 5, perSeconds: 1 },
  { requests: 2, perSeconds: 1 },
  { requests: 4, perSeconds: 1 },
  { requests: 10, perSeconds: 1 },
  { requests: 100, perSeconds: 1 },
  { requests: 1, perSeconds: 2 },
  { requests: 10, perSeconds: 60 },
  { requests: 60, perSeconds: 60 },
  { requests: 10_000, perSeconds: 60 },
];

describe("rate gate: what the vendor sees", () => {
  it("given a 5/s cap run at its whole allowance, when six requests leave their slots and the first reaches the vendor 51 ms late, then the vendor never sees six within one second", () => {
    const cap = { requests: 5, perSeconds: 1 };
    const schedule = new SlotSchedule();
    const interval = slotIntervalMs(cap, 1);
    const t0 = 1_000_000;
    // Six jobs ask at once; each goes out at its slot.
    const slots = Array.from({ length: 6 }, () => t0 + schedule.reserve("vendor", t0, interval));
    const arrivals = slots.map((slot, i) => slot + (i === 0 ? 51 : 0));

    // Before: slots 204 ms apart, so the vendor saw all six within 1020 − 51 = 969 ms.
    expect((arrivals[5] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(1000);
    expect(maxInAnyWindow(arrivals, 1000)).toBeLessThanOrEqual(5);
  });

  it("given any declared cap at any fraction, then cap + 1 consecutive slots span the vendor's period plus the jitter tolerance", () => {
    for (const cap of CAPS) {
      for (const fraction of [1, 0.9, 0.5, 0.1]) {
        const interval = slotIntervalMs(cap, fraction);
        // The bound: however late any of them arrives (up to the tolerance), cap + 1 requests cannot fit in one period.
        expect(cap.requests * interval, `${cap.requests}/${cap.perSeconds}s at ${fraction}`).toBeGreaterThanOrEqual(
          cap.perSeconds * 1000 + JITTER_TOLERANCE_MS,
        );
        // …and the budget is kept: no more than cap × fraction per period as the gate hands them out.
        expect(interval).toBeGreaterThanOrEqual((cap.perSeconds * 1000) / (cap.requests * fraction));
      }
    }
  });

  it("given three jobs sharing a schedule and requests delayed by up to the jitter tolerance (random and worst case), then no window of the vendor's period holds more than its cap", () => {
    const random = seeded(16);
    for (const cap of CAPS) {
      const period = cap.perSeconds * 1000;
      for (const fraction of [1, 0.5]) {
        const interval = slotIntervalMs(cap, fraction);
        const perJob = Math.min(40, cap.requests * 2 + 2);
        const slots = slotsOfSharedJobs(interval, 3, perJob, () => random() * interval * 3);
        const label = `${cap.requests}/${cap.perSeconds}s at ${fraction}`;
        // Random jitter on every request.
        const jittered = slots.map((s) => s + random() * JITTER_TOLERANCE_MS);
        expect(maxInAnyWindow(jittered, period), label).toBeLessThanOrEqual(cap.requests);
        // Worst case for each window: its first request as late as tolerated, every other one on time.
        for (let late = 0; late < slots.length; late++) {
          const arrivals = slots.map((s, i) => (i === late ? s + JITTER_TOLERANCE_MS : s));
          expect(maxInAnyWindow(arrivals, period), `${label}, request ${late} late`).toBeLessThanOrEqual(cap.requests);
        }
      }
    }
  });

  it("given a 429 pause, when jobs reserve again, then slots resume after the pause and stay spaced", () => {
    const schedule = new SlotSchedule();
    const interval = slotIntervalMs({ requests: 5, perSeconds: 1 }, 1);
    const t0 = 1_000_000;
    schedule.reserve("vendor", t0, interval);
    schedule.pause("vendor", t0 + 5000);
    const slots = Array.from({ length: 6 }, () => t0 + schedule.reserve("vendor", t0, interval));
    expect(slots[0]).toBe(t0 + 5000);
    for (let i = 1; i < slots.length; i++) expect((slots[i] as number) - (slots[i - 1] as number)).toBeCloseTo(interval, 6);
  });
});
