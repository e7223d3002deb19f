import { PaginationError } from "../../pollers/pagination";
import type { NextPage, PageRequest, PaginationStyle } from "../../pollers/types";

/** HubSpot's search refuses to page past this many results of one query (a 400). */
export const SEARCH_RESULT_CAP = 10_000;

/** A search request remembers how many results its window has read (our own field; never sent). */
type SearchRequest = PageRequest & { read?: number };

interface SearchBody {
  filterGroups: { filters: { propertyName: string; operator: "GTE"; value: string }[] }[];
  sorts: { propertyName: string; direction: "ASCENDING" }[];
  limit: number;
  after?: string;
}

/**
 * POST /crm/v3/objects/{type}/search, modified date ≥ the window's start, ascending. One query can
 * be paged through at most 10,000 results, so a window is closed before its next page would pass
 * that, and the next window starts at the modified date of the last record read (≥, so the records
 * sharing that instant are read again and deduped, never skipped). More than 10,000 records sharing
 * one instant cannot be windowed by date: the run fails saying so rather than losing any.
 *
 * The engine hands the cursor (ISO, already minus the lookback) in the `since` parameter; the body
 * carries it as epoch milliseconds, as HubSpot compares datetime properties.
 */
export function hubspotSearchPages(objectType: string, dateProperty: string, cap = SEARCH_RESULT_CAP): PaginationStyle {
  const request = (since: string, limit: number, after?: string): PageRequest => {
    const body: SearchBody = {
      filterGroups: [{ filters: [{ propertyName: dateProperty, operator: "GTE", value: since }] }],
      sorts: [{ propertyName: dateProperty, direction: "ASCENDING" }],
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
      return request(String(Number.isFinite(ms) ? ms : 0), ctx.pageSize);
    },
    next: (res, req, ctx): NextPage => {
      const json = res.json as { results?: { updatedAt?: string }[]; paging?: { next?: { after?: string } } };
      const after = json.paging?.next?.after;
      if (!after) return null;
      const since = sinceOf(req);
      const read = ((req as SearchRequest).read ?? 0) + res.count;
      if (read + ctx.pageSize <= cap) return { since, after, read };
      const last = json.results?.[json.results.length - 1]?.updatedAt;
      const lastMs = last ? Date.parse(last) : Number.NaN;
      if (!Number.isFinite(lastMs))
        throw new PaginationError("a full search window ends in a record without updatedAt; cannot start the next window");
      if (String(lastMs) === since) {
        throw new PaginationError(`more than ${cap} records share ${dateProperty} = ${last}; HubSpot's search cannot page past them`);
      }
      return { since: String(lastMs), read: 0 };
    },
    apply: (first, next) => {
      const limit = (JSON.parse(first.body ?? "{}") as SearchBody).limit;
      const req = request(String(next.since), limit, next.after === undefined ? undefined : String(next.after));
      const withCount: SearchRequest = { ...req, read: Number(next.read ?? 0) };
      return withCount;
    },
  };
}
