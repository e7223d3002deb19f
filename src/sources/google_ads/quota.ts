import type { ThrottleHooks } from "../../pollers/types";

/** A protobuf Duration as JSON ("30s", "1.5s") in ms. */
function durationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return m ? Math.ceil(Number(m[1]) * 1000) : undefined;
}

/** Every `retryDelay` in the error (GoogleAdsFailure's quotaErrorDetails, or google.rpc.RetryInfo). */
function retryDelays(node: unknown, out: number[] = []): number[] {
  if (Array.isArray(node)) for (const item of node) retryDelays(item, out);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "retryDelay") {
        const ms = durationMs(v);
        if (ms !== undefined) out.push(ms);
      } else retryDelays(v, out);
    }
  }
  return out;
}

/**
 * Google Ads answers a spent quota with `RESOURCE_EXHAUSTED` (HTTP 429) and, usually, how long to
 * wait (`quotaErrorDetails.retryDelay`). That wait is honoured: short ones inline, long ones (the
 * daily operations cap) as a delayed continuation of the run.
 */
export const googleAdsThrottle: ThrottleHooks = {
  classify: (answer) => {
    if (!answer.text.includes("RESOURCE_EXHAUSTED")) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return { reason: "RESOURCE_EXHAUSTED" };
    }
    const delays = retryDelays(body);
    return { reason: "RESOURCE_EXHAUSTED", ...(delays.length > 0 ? { waitMs: Math.max(...delays) } : {}) };
  },
};
