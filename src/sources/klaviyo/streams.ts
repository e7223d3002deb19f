import type { PollStream } from "../../pollers/types";
import { reshapedFirst } from "../poll-helpers";

/**
 * A Klaviyo list sorted ascending by `field`, from `greater-than(field, since)` (the cursor minus
 * the lookback, ISO-8601) and continued with the absolute `links.next` URL until it is null.
 */
function changedSince(field: string, limitParam?: string) {
  return reshapedFirst({ style: "next_link", path: "links.next", limitParam }, (base) => {
    const { since, ...query } = base.query;
    return { ...base, query: since ? { ...query, filter: `greater-than(${field},${since})` } : query };
  });
}

/** Events are immutable: each lands once (version: its `datetime` and a digest of its bytes); pages hold 200, fixed by Klaviyo. */
export const klaviyoEvents: PollStream = {
  name: "events",
  path: "/api/events",
  params: { sort: "datetime" },
  records: "data",
  primaryKey: "id",
  cursor: { kind: "updated_at", field: "attributes.datetime", param: "since", lookbackSeconds: 300, ascending: true },
  pagination: changedSince("datetime"),
  pageSize: 200,
  intervalMinutes: 15,
};

/** Profiles by `updated` (the version, with a digest of the bytes: `updated` has whole seconds), 100 a page. Deleted profiles vanish (Klaviyo lists them only in its app): no delete records. */
export const klaviyoProfiles: PollStream = {
  name: "profiles",
  path: "/api/profiles",
  params: { sort: "updated" },
  records: "data",
  primaryKey: "id",
  cursor: { kind: "updated_at", field: "attributes.updated", param: "since", lookbackSeconds: 300, ascending: true },
  pagination: changedSince("updated", "page[size]"),
  pageSize: 100,
  intervalMinutes: 30,
};

export const klaviyoStreams: PollStream[] = [klaviyoEvents, klaviyoProfiles];
