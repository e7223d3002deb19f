import type { RecordListing } from "../../reconcile/types";
import { intercomStreams } from "./streams";

/**
 * The time an Intercom record's version stands for, whichever way it landed:
 * - a poll or a reconciliation of the search streams: `<updated_at>|<digest>`, updated_at in Unix
 *   seconds (the search's cursor field);
 * - a webhook notification: `notif_…@<updated_at>`, the `updated_at` of the notification's
 *   `data.item` (the object as it was when notified), so a notified change holds the object as of
 *   that state. A notification whose item has no `updated_at` (`*.deleted` topics send ids only)
 *   or no id (keyed by the notification id) holds nothing: null.
 * Times are whole seconds: a second change in the same second as a notified one counts as held.
 */
export function intercomVersionTime(version: string, _key: string): number | null {
  const m = /^(?:(\d{1,12})\|[0-9a-f]{16}|notif_[^@|]+@(\d{1,12}))$/.exec(version);
  const seconds = m?.[1] ?? m?.[2];
  return seconds === undefined ? null : Number(seconds) * 1000;
}

/**
 * Record level: Intercom lists no notifications (delivery logs are only in the Developer Hub), but
 * `POST /contacts/search` and `POST /conversations/search` list the objects changed in a window
 * (`updated_at > since`, ascending, `starting_after` pages) — the source's own poll streams, so a
 * recovered object has the key, version and `_dock.id` its poll would have. Search lists current
 * states only: deleted and merged contacts are not listed (their `*.deleted` notifications stay the
 * only record of them). Search has no documented history limit; 90 days bounds what we ask.
 */
export const intercomReconcile: RecordListing = {
  historyDays: 90,
  // Notifications that failed are retried; new contacts can take a few minutes to be searchable.
  settleSeconds: 15 * 60,
  overlapSeconds: 60 * 60,
  listings: intercomStreams,
  objects: { streams: ["contacts", "conversations"], versionTime: intercomVersionTime },
};
