import { isoVersionTime } from "../../reconcile/objects";
import type { RecordListing } from "../../reconcile/types";
import { streamName } from "../webhook-helpers";
import { DEFAULT_OBJECTS, salesforceStreams } from "./streams";

const NOTIFICATION = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?@(\d{4}-\d{2}-\d{2}T[\d:.]+Z)$/;

/**
 * The time a Salesforce record's version stands for, whichever way it landed:
 * - a poll or a reconciliation (REST or Bulk `queryAll`): `<SystemModstamp ISO>|<digest>`;
 * - an outbound message: `<notification Id>@<SystemModstamp ISO>` (events.ts), the sObject's own
 *   SystemModstamp as the message sent it. A notification whose message does not select
 *   SystemModstamp has the notification Id alone: no time, so it holds nothing (null) and
 *   reconciliation recovers that object's state from the listing.
 */
export function salesforceVersionTime(version: string): number | null {
  const webhook = NOTIFICATION.exec(version);
  if (webhook) {
    const ms = Date.parse(webhook[1] as string);
    return Number.isFinite(ms) ? ms : null;
  }
  return isoVersionTime(version);
}

/**
 * Record level: an outbound message's Notification Id cannot be queried, but SOQL `queryAll` lists
 * every record modified since a time, deleted ones included (`IsDeleted = true`), ordered by
 * `SystemModstamp` and paged by `nextRecordsUrl`. That is exactly the REST phase of the source's
 * own poll streams (streams.ts), asked from the window's start, so a recovered record has the
 * key, version and `_dock.id` its poll would have. Deleted records stay in the Recycle Bin, where
 * `queryAll` sees them, for 15 days: the listing's history.
 */
export function salesforceReconcileFor(objects: readonly string[] = DEFAULT_OBJECTS): RecordListing {
  return {
    historyDays: 15,
    // Salesforce retries an unacknowledged outbound message for up to 24 hours, backing off to 2 hours.
    settleSeconds: 15 * 60,
    overlapSeconds: 60 * 60,
    listings: salesforceStreams(objects),
    objects: { streams: objects.map((o) => streamName(o, false)), versionTime: salesforceVersionTime },
  };
}

export const salesforceReconcile: RecordListing = salesforceReconcileFor();
