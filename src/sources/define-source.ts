import { isSafeSegment } from "../envelope/raw-keys";
import type { PollAuth, PollStream, QuotaSpec, RateLimitSpec, ThrottleHooks } from "../pollers/types";
import type { ReconcileSpec } from "../reconcile/types";
import type { WebhookSpec } from "../webhooks/types";

/**
 * The connector contract. A source is a folder in src/sources/<name>/ that exports one definition;
 * the machinery (webhook route, poll runner, reconciler) reads only this shape.
 */
export interface SourceDefinition {
  /** Also the URL path (`/webhooks/<name>`) and the secrets' prefix (`<NAME>_WEBHOOK_SECRET`). */
  name: string;
  title: string;
  webhook?: WebhookSpec;
  /** Polling (see docs/polling.md): the vendor's API root, or a function of env (a local URL in dev). */
  baseUrl?: string | ((env: Record<string, unknown>) => string);
  /** How poll requests authenticate; credentials come from env at run time. */
  auth?: PollAuth;
  /** The vendor's published cap; the poll engine uses RATE_FRACTION of it across all its jobs. */
  rateLimit?: RateLimitSpec | ((env: Record<string, unknown>) => RateLimitSpec);
  /** The vendor's "quota spent" answer: the run ends as paused (see QuotaSpec). */
  quota?: QuotaSpec;
  /** Resources to poll (incrementally, every `intervalMinutes`) and/or refresh nightly. */
  streams?: PollStream[];
  /** Vendor throttle signals beyond 429 + Retry-After (quota errors in bodies, usage headers). */
  throttle?: ThrottleHooks;
  /**
   * Webhook sources: how the nightly reconciliation lists what the vendor says happened, or
   * `{ unsupported: "<why>" }` (see docs/reconciliation.md). Absent on a webhook source = unsupported.
   */
  reconcile?: ReconcileSpec;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

export function defineSource<S extends SourceDefinition>(source: S): S {
  if (!NAME.test(source.name)) throw new Error(`source name ${JSON.stringify(source.name)} must match ${NAME}`);
  const streams = new Set<string>();
  for (const stream of source.streams ?? []) {
    if (!isSafeSegment(stream.name) || streams.has(stream.name)) {
      throw new Error(`source ${source.name}: stream name ${JSON.stringify(stream.name)} is invalid or used twice`);
    }
    streams.add(stream.name);
  }
  return source;
}
