import { isoVersionTime, vendorPart } from "../../reconcile/objects";
import type { RecordListing } from "../../reconcile/types";
import { zendeskListings } from "./streams";

const WEBHOOK_VERSION = /@(\d{4}-\d{2}-\d{2}T[^@|]+)$/;

/**
 * The time a Zendesk record's version stands for, whichever way it landed:
 * - a ticket polled or reconciled: `<generated_timestamp>|<digest>` (epoch seconds, moved by every
 *   update, system ones too), or `<updated_at>|<digest>` when a ticket has no generated_timestamp;
 * - a user or organization polled or reconciled: `<updated_at>|<digest>`;
 * - a Zendesk event webhook (`zen:event-type:…`): `<event id>@<time>`, `time` being when the event
 *   happened, keyed by `detail.id` under the object's stream (see events.ts). A webhook therefore
 *   holds its object as of the change it reports.
 * An event webhook without a `time` is versioned by its id alone and holds nothing: null.
 */
export function zendeskVersionTime(version: string, key: string): number | null {
  if (!/^\d+$/.test(key)) return null;
  const webhook = WEBHOOK_VERSION.exec(version);
  if (webhook) {
    const ms = Date.parse(webhook[1] as string);
    return Number.isFinite(ms) ? ms : null;
  }
  const vendor = vendorPart(version);
  if (/^\d{9,11}$/.test(vendor)) return Number(vendor) * 1000;
  return isoVersionTime(version);
}

/**
 * Record level: Zendesk's webhook event ids are not listed anywhere we could confirm (see
 * docs/reconciliation.md: the invocations listing's ids are not documented to equal anything a
 * delivery carries), but the time-based incremental exports list every ticket, user and organization
 * changed since a time, deleted ones included (tickets `status: "deleted"`, users `active: false`,
 * organizations `deleted_at`). The listings are the source's own streams (same describe, so a
 * recovered object has the key, version and `_dock.id` its poll would have).
 */
export const zendeskReconcile: RecordListing = {
  // The exports list from any start time (0 = all history); a year bounds what one window may ask.
  historyDays: 365,
  // The exports leave out the last minute; Zendesk retries failed webhook deliveries for minutes.
  settleSeconds: 15 * 60,
  overlapSeconds: 60 * 60,
  listings: zendeskListings,
  objects: { streams: ["tickets", "users", "organizations"], versionTime: zendeskVersionTime },
};
