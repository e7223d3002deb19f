import { isoVersionTime } from "../../reconcile/objects";
import type { RecordListing } from "../../reconcile/types";
import { klaviyoStreams } from "./streams";

/**
 * The time a Klaviyo record's version stands for, whichever way it landed:
 * - a poll or a reconciliation: `<datetime>|<digest>` (events) or `<updated>|<digest>` (profiles),
 *   ISO-8601;
 * - a system-webhook item: `<event id>@<payload.attributes.datetime>`, keyed by that event id. An
 *   event never changes, so its only version is its time: a listed event is held exactly when its
 *   id was written (by webhook, poll or an earlier reconciliation).
 * A webhook item without a datetime (version = its id) holds nothing: null.
 */
export function klaviyoVersionTime(version: string, key: string): number | null {
  const at = version.lastIndexOf("@");
  if (at > 0 && version.slice(0, at) === key) {
    const ms = Date.parse(version.slice(at + 1));
    return Number.isFinite(ms) ? ms : null;
  }
  return isoVersionTime(version);
}

/**
 * Record level: Klaviyo lists no webhook deliveries, but `GET /api/events` lists events by
 * `datetime` and `GET /api/profiles` profiles by `updated` (`filter=greater-than(…)`, sorted
 * ascending, `links.next` pages) — the source's own poll streams, so a recovered event or profile
 * has the key, version and `_dock.id` its poll would have. A system-webhook item's `external_id` is
 * documented as the "ID of the event" and its payload has "the same structure as a Get Event API
 * call": listed id and held id are the same id. Profiles come by no webhook; their listing checks
 * that the polls held every profile changed in the window. Deleted profiles are not listed.
 */
export const klaviyoReconcile: RecordListing = {
  historyDays: 90,
  // Klaviyo retries failed system-webhook deliveries; events can reach the API with a short delay.
  settleSeconds: 15 * 60,
  overlapSeconds: 60 * 60,
  listings: klaviyoStreams,
  objects: { streams: ["events", "profiles"], versionTime: klaviyoVersionTime },
};
