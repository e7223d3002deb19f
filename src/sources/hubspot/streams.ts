import type { PollStream } from "../../pollers/types";
import { hubspotSearchPages } from "./search";

/** The CRM objects polled, and the property holding each one's last modification. */
export const HUBSPOT_OBJECTS = [
  { type: "contacts", modified: "lastmodifieddate" },
  { type: "companies", modified: "hs_lastmodifieddate" },
  { type: "deals", modified: "hs_lastmodifieddate" },
  { type: "tickets", modified: "hs_lastmodifieddate" },
] as const;

/**
 * Changes through the search API, ascending by modified date, keyset-paged: every page is a new
 * window from the last modified date read, so no row is skipped and no query nears the 10,000-result
 * cap (see search.ts). `updatedAt` on each result is that modified date; it is both the cursor and the
 * version (with a digest of the record's bytes beside it), so one state of a record seen by two
 * overlapping runs is one record, and two states sharing a modified date are two.
 */
export function hubspotSearchStream(type: string, modified: string): PollStream {
  return {
    name: type,
    path: `/crm/v3/objects/${type}/search`,
    records: "results",
    primaryKey: "id",
    cursor: { kind: "updated_at", field: "updatedAt", param: "since", lookbackSeconds: 300, ascending: true },
    pagination: hubspotSearchPages(type, modified),
    pageSize: 200,
    intervalMinutes: 15,
  };
}

/**
 * Archived (deleted) records: `GET /crm/v3/objects/{type}?archived=true`, read in full every hour
 * (HubSpot offers no "archived since"), each one a delete filed under the object's stream and
 * versioned by `archivedAt`: the same deletion read again is the same record.
 */
export function hubspotArchivedStream(type: string): PollStream {
  return {
    name: `${type}_archived`,
    path: `/crm/v3/objects/${type}`,
    params: { archived: "true" },
    records: "results",
    primaryKey: "id",
    pagination: { style: "cursor", path: "paging.next.after", param: "after", limitParam: "limit" },
    pageSize: 100,
    intervalMinutes: 60,
    op: "delete",
    describe: (record) => ({ stream: type, version: record.field("archivedAt") }),
  };
}

export const hubspotStreams: PollStream[] = HUBSPOT_OBJECTS.flatMap(({ type, modified }) => [
  hubspotSearchStream(type, modified),
  hubspotArchivedStream(type),
]);
