import { LEAD_FIELDS } from "./leads";

/*
 * Test fixtures shaped like Meta's lead ads documentation: a Lead node as `GET /{form-id}/leads`
 * returns it (`created_time` as Graph writes times, `2026-12-06T03:00:00+0000`; `field_data` as
 * name/values pairs), a page of them (`{data, paging: {cursors: {before, after}, next}}`), and the
 * `leadgen` webhook a Page subscription posts (`{object: "page", entry: [{id, time, changes:
 * [{field: "leadgen", value: {ad_id, form_id, leadgen_id, created_time, page_id, adgroup_id}}]}]}`).
 */

export interface Lead {
  id: string;
  formId: string;
  pageId: string;
  /** Unix seconds. */
  createdTime: number;
  email: string;
}

/** Graph's time format: ISO-8601 with a `+0000` offset and no milliseconds. */
export const graphTime = (unixSeconds: number): string => `${new Date(unixSeconds * 1000).toISOString().slice(0, 19)}+0000`;

/** The lead as the leads edge returns it with `fields=${LEAD_FIELDS}`. */
export function leadJson(l: Lead): Record<string, unknown> {
  return {
    id: l.id,
    created_time: graphTime(l.createdTime),
    form_id: l.formId,
    ad_id: "23850000000000001",
    is_organic: false,
    platform: "fb",
    field_data: [
      { name: "email", values: [l.email] },
      { name: "full_name", values: [`Lead ${l.id}`] },
    ],
  };
}

/** One page of a form's leads; `next` is Graph's own URL (it carries the token, as Graph's does). */
export function leadsPage(leads: readonly Lead[], cursors: { before: string; after: string } | null, next: string | null): string {
  return JSON.stringify({
    data: leads.map(leadJson),
    ...(cursors ? { paging: { cursors, ...(next ? { next } : {}) } } : {}),
  });
}

/** The `leadgen` change of a lead, as the webhook carries it (created_time in unix seconds). */
export function leadgenChange(l: Lead): Record<string, unknown> {
  return {
    field: "leadgen",
    value: {
      ad_id: "23850000000000001",
      form_id: l.formId,
      leadgen_id: l.id,
      created_time: l.createdTime,
      page_id: l.pageId,
      adgroup_id: "23850000000000002",
    },
  };
}

/** A Page notification: one entry per Page, each with the leadgen changes of its leads (and any other changes). */
export function leadgenNotification(leads: readonly Lead[], other: Record<string, unknown>[] = []): string {
  const pages = [...new Set(leads.map((l) => l.pageId))];
  return JSON.stringify({
    object: "page",
    entry: pages.map((pageId, i) => {
      const own = leads.filter((l) => l.pageId === pageId);
      return {
        id: pageId,
        time: Math.max(...own.map((l) => l.createdTime)),
        changes: [...own.map(leadgenChange), ...(i === 0 ? other : [])],
      };
    }),
  });
}

export { LEAD_FIELDS };
