import { isoVersionTime } from "../../reconcile/objects";
import type { RecordListing } from "../../reconcile/types";
import { SHOPIFY_OBJECTS, shopifyStreams } from "./streams";

/**
 * The time a Shopify record's version stands for, whichever way it landed:
 * - a poll or a reconciliation of orders/products/customers: `<updated_at>|<digest>`;
 * - a webhook: `<event id>:<topic>@<time>`, the time being the payload's `updated_at` (the object
 *   as the change left it) or, for a deletion, `X-Shopify-Triggered-At`. A webhook thus holds its
 *   object as of the state it carries: a listed object updated no later than that is held.
 * A webhook without a time (an older delivery, or a topic whose payload has no `updated_at`) and
 * a record keyed by anything but a numeric Shopify id hold nothing: null.
 */
export function shopifyVersionTime(version: string, key: string): number | null {
  if (!/^\d+$/.test(key)) return null;
  const webhook = /@(\d{4}-\d{2}-\d{2}T[^@|]+)$/.exec(version);
  if (webhook) {
    const ms = Date.parse(webhook[1] as string);
    return Number.isFinite(ms) ? ms : null;
  }
  return isoVersionTime(version);
}

/**
 * Record level: Shopify lists no webhook deliveries, but its REST Admin API lists orders
 * (`status=any`), products and customers with their `updated_at` — the source's own poll streams,
 * so a recovered object has the key, version and `_dock.id` its poll would have. Deletions are not
 * compared: REST lists no deleted customers, and deleted orders and products only as Events
 * (`events.json?verb=destroy`) with ids of their own; a deletion's webhook is the only record of it.
 * Orders older than 60 days are listed only with the `read_all_orders` scope.
 */
export const shopifyReconcile: RecordListing = {
  historyDays: 60,
  // Shopify retries a failed delivery 8 times over 4 hours.
  settleSeconds: 15 * 60,
  overlapSeconds: 60 * 60,
  listings: shopifyStreams,
  objects: { streams: SHOPIFY_OBJECTS, versionTime: shopifyVersionTime },
};
