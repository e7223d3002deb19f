import type { PollAuth, ThrottleHooks } from "../../pollers/types";
import { envOr, whenConfigured } from "../poll-helpers";
import { restAuth } from "../rest/auth";

const bearer = restAuth({ type: "bearer", token: { env: "INTERCOM_ACCESS_TOKEN" } });

/** The app's access token as a bearer, with the API version pinned (INTERCOM_API_VERSION, default 2.11). */
export const intercomAuth: PollAuth = {
  refreshable: false,
  credentials: async (env, opts) => {
    const creds = await bearer.credentials(env, opts);
    return { ...creds, headers: { ...creds.headers, "intercom-version": envOr(env, "INTERCOM_API_VERSION", "2.11") } };
  },
};

/** https://api.intercom.io (INTERCOM_API_BASE for the EU/AU regions: api.eu.intercom.io, api.au.intercom.io). */
export const intercomBaseUrl = whenConfigured(["INTERCOM_ACCESS_TOKEN"], (env) =>
  envOr(env, "INTERCOM_API_BASE", "https://api.intercom.io"),
);

/**
 * Intercom counts calls per 10-second window and says so on every answer: when the window has
 * (almost) nothing left, the source waits for `X-RateLimit-Reset` (a Unix time) before the next
 * call instead of running into a 429.
 */
export const intercomThrottle: ThrottleHooks = {
  usage: (headers, nowMs) => {
    const remaining = Number(headers.get("x-ratelimit-remaining") ?? Number.NaN);
    const reset = Number(headers.get("x-ratelimit-reset") ?? Number.NaN);
    if (!Number.isFinite(remaining) || !Number.isFinite(reset) || remaining > 1) return 0;
    return Math.max(0, reset * 1000 - nowMs);
  },
};
