import { PaginationError } from "../../pollers/pagination";
import type { NextPage, PageRequest, PaginationStyle } from "../../pollers/types";

/** HubSpot's search refuses to page past this many results of one query (a 400). */
export const SEARCH_RESULT_CAP = 10_000;

/** A search request remembers how many results its window has read (our own field; never sent). */
type SearchRequest = PageRequest & { read?: number };

interface SearchBody {
  filterGroups: { filters: { propertyName: string; operator: "GTE"; value: string }[] }[];
  sorts: { propertyName: string; direction: "ASCENDING" }[];
  properties?: string[];
  limit: number;
  after?: string;
}

/**
 * The properties a search returns: HUBSPOT_<TYPE>_PROPERTIES (comma-separated, e.g.
 * HUBSPOT_CONTACTS_PROPERTIES=email,firstname,lifecyclestage) plus the modified date; unset, HubSpot's
 * default set for the object.
 */
export function searchProperties(env: Record<string, unknown> | undefined, objectType: string, dateProperty: string): string[] | undefined {
  const value = env?.[`HUBSPOT_${objectType.toUpperCase()}_PROPERTIES`];
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const names = value
    .split(",")
    .map((p) => p.trim())
    .filter((p) => /^[a-z0-9_]+$/i.test(p));
  return [...new Set([...names, dateProperty])];
}

/**
 * POST /crm/v3/objects/{type}/search, modified date ≥ `since`, ascending. HubSpot's `after` is an
 * offset into one query's results, which has two traps: a record modified while a run pages moves
 * to the end, so every later row shifts down one and the row at the next page boundary is never
 * served; and no query can be paged past 10,000 results (a 400). So each next page is a new query
 * (a new window) from the modified date of the last record read — keyset paging: rows cannot be
 * skipped, records sharing that instant come back once more and dedupe absorbs them, and no query
 * reads past its first page. Only when a whole page shares one instant does the run follow `after`
 * through that instant; more than 10,000 records in one instant cannot be read and fail the run.
 *
 * The engine hands the cursor (ISO, already minus the lookback) in the `since` parameter; the body
 * carries it as epoch milliseconds, as HubSpot compares datetime properties.
 */
export function hubspotSearchPages(objectType: string, dateProperty: string, cap = SEARCH_RESULT_CAP): PaginationStyle {
  const request = (since: string, limit: number, after?: string, properties?: string[]): PageRequest => {
    const body: SearchBody = {
      filterGroups: [{ filters: [{ propertyName: dateProperty, operator: "GTE", value: since }] }],
      sorts: [{ propertyName: dateProperty, direction: "ASCENDING" }],
      ...(properties ? { properties } : {}),
      limit,
      ...(after ? { after } : {}),
    };
    return { url: `/crm/v3/objects/${objectType}/search`, query: {}, method: "POST", body: JSON.stringify(body) };
  };
  const sinceOf = (req: PageRequest): string => (JSON.parse(req.body ?? "{}") as SearchBody).filterGroups[0]?.filters[0]?.value ?? "0";
  return {
    name: "hubspot_search",
    first: (base, ctx) => {
      const iso = base.query.since;
      const ms = iso ? Date.parse(iso) : 0;
      return request(String(Number.isFinite(ms) ? ms : 0), ctx.pageSize, undefined, searchProperties(ctx.env, objectType, dateProperty));
    },
    next: (res, req, ctx): NextPage => {
      const json = res.json as { results?: { updatedAt?: string }[]; paging?: { next?: { after?: string } } };
      const after = json.paging?.next?.after;
      if (!after) return null;
      const since = sinceOf(req);
      const first = json.results?.[0]?.updatedAt;
      const last = json.results?.[json.results.length - 1]?.updatedAt;
      const lastMs = last ? Date.parse(last) : Number.NaN;
      if (!Number.isFinite(lastMs)) throw new PaginationError("a search page ends in a record without updatedAt; cannot continue from it");
      if (first !== last) return { since: String(lastMs), read: 0 };
      // The whole page shares one instant (a new window would serve it again): follow `after`.
      const read = ((req as SearchRequest).read ?? 0) + res.count;
      if (read + ctx.pageSize > cap) {
        throw new PaginationError(`more than ${cap} records share ${dateProperty} = ${last}; HubSpot's search cannot page past them`);
      }
      return { since, after, read };
    },
    apply: (first, next) => {
      const { limit, properties } = JSON.parse(first.body ?? "{}") as SearchBody;
      const req = request(String(next.since), limit, next.after === undefined ? undefined : String(next.after), properties);
      const withCount: SearchRequest = { ...req, read: Number(next.read ?? 0) };
      return withCount;
    },
  };
}
