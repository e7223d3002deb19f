import { DurableObject } from "cloudflare:workers";
import { type RateGate, SlotSchedule } from "./rate-gate";

/**
 * One instance per rate-limited source (named by the source): the single place where all of a
 * source's concurrent poll jobs take their request slots. Its schedule lives in memory: if the
 * object is evicted it restarts from "now", which is safe because eviction only follows idleness.
 */
export class RateLimiter extends DurableObject {
  private readonly schedule = new SlotSchedule();

  async reserve(key: string, intervalMs: number): Promise<number> {
    return this.schedule.reserve(key, Date.now(), intervalMs);
  }

  async pause(key: string, ms: number): Promise<void> {
    this.schedule.pause(key, Date.now() + ms);
  }
}

export function durableGate(namespace: DurableObjectNamespace<RateLimiter>, key: string, intervalMs: number): RateGate {
  const stub = namespace.get(namespace.idFromName(key));
  return {
    reserve: () => stub.reserve(key, intervalMs),
    pause: (ms) => stub.pause(key, ms),
  };
}
