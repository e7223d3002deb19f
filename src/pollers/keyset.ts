import type { NextPage, PageRequest, PageResponse, PaginationContext, PaginationStyle } from "./types";

/**
 * Keyset continuation for streams read in ascending cursor order: each next page asks again from
 * the highest cursor value seen (`updated_since >= that value`) instead of following the vendor's
 * page token. A vendor whose token is an offset skips records when rows move while a run pages
 * through them (an update moves a row to the end, every later row shifts down by one, and the row at
 * the page boundary is never served). Keyset reads cannot skip: untouched rows keep their place, and
 * touched ones move forward into pages still to come. Ties at the boundary come back once more and
 * dedupe absorbs them. When a whole page shares one cursor value (no progress possible by value),
 * the vendor's token carries the run past the tie, and the next page returns to keyset.
 */
export function keysetStyle(inner: PaginationStyle, cursorParam: string): PaginationStyle {
  return {
    name: `keyset(${inner.name})`,
    first: (base, ctx) => inner.first(base, ctx),
    next(res: PageResponse, req: PageRequest, ctx: PaginationContext): NextPage {
      const vendorNext = inner.next(res, req, ctx);
      if (vendorNext === null || res.count === 0) return null;
      const since = res.maxCursor;
      // A page of one value cannot move the keyset forward: follow the vendor's token instead, which
      // is relative to the query that produced it, so that query's value travels with it.
      if (since === undefined || since === res.firstCursor) return { ...vendorNext, keyset_from: req.query[cursorParam] ?? "" };
      return { keyset: since };
    },
    apply(first: PageRequest, next: Exclude<NextPage, null>): PageRequest {
      if (next.keyset !== undefined) return { ...first, query: { ...first.query, [cursorParam]: String(next.keyset) } };
      const { keyset_from: from, ...token } = next;
      const query = { ...first.query };
      if (from) query[cursorParam] = String(from);
      else delete query[cursorParam];
      return inner.apply({ ...first, query }, token);
    },
  };
}
