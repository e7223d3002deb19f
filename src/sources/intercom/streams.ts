import type { PageRequest, PaginationStyle, PollStream } from "../../pollers/types";

interface SearchBody {
  query: { field: "updated_at"; operator: ">"; value: number };
  sort: { field: "updated_at"; order: "ascending" };
  pagination: { per_page: number; starting_after?: string };
}

/**
 * POST /{contacts|conversations}/search with `updated_at > since` (seconds), ascending, ≤ 150 per
 * page, continued with `pages.next.starting_after`. The engine hands `since` already minus the
 * lookback: with second-granular times, the overlap plus dedupe is what keeps a change made in the
 * same second as the cursor from being skipped.
 */
export function intercomSearchPages(path: string): PaginationStyle {
  const request = (since: number, perPage: number, after?: string): PageRequest => {
    const body: SearchBody = {
      query: { field: "updated_at", operator: ">", value: since },
      sort: { field: "updated_at", order: "ascending" },
      pagination: { per_page: perPage, ...(after ? { starting_after: after } : {}) },
    };
    return { url: path, query: {}, method: "POST", body: JSON.stringify(body) };
  };
  return {
    name: "intercom_search",
    first: (base, ctx) => request(Number(base.query.since ?? 0) || 0, ctx.pageSize),
    next: (res) => {
      const after = (res.json as { pages?: { next?: { starting_after?: unknown } } }).pages?.next?.starting_after;
      return typeof after === "string" && after !== "" ? { after } : null;
    },
    apply: (first, next) => {
      const body = JSON.parse(first.body ?? "{}") as SearchBody;
      return request(body.query.value, body.pagination.per_page, String(next.after));
    },
  };
}

function searchStream(name: "contacts" | "conversations", records: string): PollStream {
  return {
    name,
    path: `/${name}/search`,
    records,
    primaryKey: "id",
    cursor: { kind: "updated_at", field: "updated_at", param: "since", format: "unix", lookbackSeconds: 300, ascending: true },
    pagination: intercomSearchPages(`/${name}/search`),
    pageSize: 150,
    intervalMinutes: 15,
  };
}

/** Contacts (`data`) and conversations (`conversations`). Deleted and merged contacts vanish from search: no delete records. */
export const intercomStreams: PollStream[] = [searchStream("contacts", "data"), searchStream("conversations", "conversations")];
