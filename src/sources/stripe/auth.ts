import type { PollAuth, RateLimitSpec } from "../../pollers/types";
import { envOr, whenConfigured } from "../poll-helpers";
import { restAuth } from "../rest/auth";

/** A secret or restricted key (`sk_…` / `rk_…`) with read access, sent as a bearer token. */
export const STRIPE_KEY_ENV = "STRIPE_API_KEY";

const bearer = restAuth({ type: "bearer", token: { env: STRIPE_KEY_ENV } });

/**
 * The key as a bearer; STRIPE_API_VERSION (e.g. 2024-06-20) pins the version object lists are
 * rendered in (events keep the version of their creation whatever is sent).
 */
export const stripeAuth: PollAuth = {
  refreshable: false,
  credentials: async (env, opts) => {
    const creds = await bearer.credentials(env, opts);
    const version = env.STRIPE_API_VERSION;
    return typeof version === "string" && version !== "" ? { ...creds, headers: { ...creds.headers, "stripe-version": version } } : creds;
  },
};

/** STRIPE_API_BASE overrides the API root (a local stripe-mock); polling is off until the key is set. */
export const stripeBaseUrl = whenConfigured([STRIPE_KEY_ENV], (env) => envOr(env, "STRIPE_API_BASE", "https://api.stripe.com"));

/** Stripe's published caps: 100 operations/s in live mode, 25 in test mode (the key says which). */
export function stripeRateLimit(env: Record<string, unknown>): RateLimitSpec {
  const key = String(env[STRIPE_KEY_ENV] ?? "");
  return { requests: /^(sk|rk)_test_/.test(key) ? 25 : 100, perSeconds: 1 };
}
