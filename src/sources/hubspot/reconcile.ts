import { isoVersionTime } from "../../reconcile/objects";
import type { RecordListing } from "../../reconcile/types";
import { HUBSPOT_OBJECTS, hubspotStreams } from "./streams";

/**
 * The time a HubSpot record's version stands for, whichever way it landed:
 * - a poll or a reconciliation of the search stream: `<updatedAt>|<digest>` (updatedAt is the
 *   object's lastmodifieddate / hs_lastmodifieddate), an archived one `<archivedAt>|<digest>`;
 * - a webhook event: `portalId:subscriptionId:eventId:occurredAt`, occurredAt in epoch ms ("when
 *   this event occurred"), keyed by the event's objectId. A webhook of an object therefore counts
 *   as holding it as of the change it reports: a listed object modified no later than the newest
 *   change that came by webhook is held; one modified after it (a lost second change, or a change
 *   no subscription reports) is recovered from the listing.
 * Events not about one object (an association change has no objectId and is keyed by its own
 * identity) hold nothing: null.
 */
export function hubspotVersionTime(version: string, key: string): number | null {
  if (!/^\d+$/.test(key)) return null;
  const webhook = /^[^:|]*:[^:|]*:[^:|]+:(\d{10,16})$/.exec(version);
  if (webhook) return Number(webhook[1]);
  return isoVersionTime(version);
}

/**
 * Record level: HubSpot lists no webhook events, but its CRM search lists the objects changed in a
 * window (`lastmodifieddate` for contacts, `hs_lastmodifieddate` otherwise, ascending, keyset-paged
 * as the poll streams do), and `GET /crm/v3/objects/{type}?archived=true` lists archived ones
 * (search never returns them). The listings are the source's own poll streams, so a recovered
 * object has the key, version and `_dock.id` its poll would have. Archived objects are kept by
 * HubSpot for 90 days; the search itself has no history limit (it lists current states).
 */
export const hubspotReconcile: RecordListing = {
  historyDays: 90,
  // HubSpot retries a failed delivery up to 10 times over 24 hours; search indexes lag by seconds.
  settleSeconds: 15 * 60,
  overlapSeconds: 60 * 60,
  listings: hubspotStreams,
  objects: { streams: HUBSPOT_OBJECTS.map((o) => o.type), versionTime: hubspotVersionTime },
};
