import { valueAt } from "./json-path";
import type { NextPage, PageRequest, PageResponse, PaginationContext, PaginationSpec, PaginationStyle } from "./types";

/** Compiles a pagination spec (data) into its three functions; a style object passes through. */
export function paginationStyle(spec: PaginationSpec | PaginationStyle): PaginationStyle {
  if ("first" in spec) return spec;
  switch (spec.style) {
    case "none":
      return { name: "none", first: (base) => base, next: () => null, apply: (first) => first };
    case "next_link":
      return {
        name: "next_link",
        first: withLimit(spec.limitParam),
        next: (res) => {
          const link = valueAt(res.json, spec.path);
          return typeof link === "string" && link !== "" ? { url: link } : null;
        },
        apply: (_first, next) => ({ url: String(next.url), query: {} }),
      };
    case "link_header":
      return {
        name: "link_header",
        first: withLimit(spec.limitParam),
        next: (res) => {
          const link = nextLink(res.headers.get("link"));
          return link ? { url: link } : null;
        },
        apply: (_first, next) => ({ url: String(next.url), query: {} }),
      };
    case "cursor":
      return {
        name: "cursor",
        first: withLimit(spec.limitParam),
        next: (res) => {
          if (spec.hasMorePath && valueAt(res.json, spec.hasMorePath) !== true) return null;
          const token = valueAt(res.json, spec.path);
          return typeof token === "string" || typeof token === "number" ? (token === "" ? null : { token }) : null;
        },
        apply: (first, next) => ({ ...first, query: { ...first.query, [spec.param]: String(next.token) } }),
      };
    case "after_id":
      return {
        name: "after_id",
        first: withLimit(spec.limitParam),
        next: (res) => {
          const more = spec.hasMorePath ? valueAt(res.json, spec.hasMorePath) === true : res.count > 0;
          if (!more) return null;
          const id = spec.direction === "before" ? res.firstKey : res.lastKey;
          if (id === undefined) throw new PaginationError("the vendor says there is more, but the page has no record to continue after");
          return { id };
        },
        apply: (first, next) => ({ ...first, query: { ...first.query, [spec.param]: String(next.id) } }),
      };
    case "offset": {
      const offsetParam = spec.offsetParam ?? "offset";
      return {
        name: "offset",
        first: (base, ctx) => {
          const req = withLimit(spec.limitParam ?? "limit")(base, ctx);
          return { ...req, query: { ...req.query, [offsetParam]: "0" } };
        },
        next: (res, req, ctx) => {
          const offset = Number(req.query[offsetParam] ?? 0) + res.count;
          if (spec.totalPath) {
            const total = Number(valueAt(res.json, spec.totalPath));
            return offset < total && res.count > 0 ? { offset } : null;
          }
          return res.count >= ctx.pageSize ? { offset } : null;
        },
        apply: (first, next) => ({ ...first, query: { ...first.query, [offsetParam]: String(next.offset) } }),
      };
    }
    case "page": {
      const param = spec.param ?? "page";
      const firstPage = spec.firstPage ?? 1;
      return {
        name: "page",
        first: (base, ctx) => {
          const req = withLimit(spec.sizeParam ?? "per_page")(base, ctx);
          return { ...req, query: { ...req.query, [param]: String(firstPage) } };
        },
        next: (res, req, ctx) => {
          const page = Number(req.query[param] ?? firstPage);
          if (spec.totalPagesPath) return page < Number(valueAt(res.json, spec.totalPagesPath)) ? { page: page + 1 } : null;
          if (spec.hasMorePath) return valueAt(res.json, spec.hasMorePath) === true ? { page: page + 1 } : null;
          return res.count >= ctx.pageSize ? { page: page + 1 } : null;
        },
        apply: (first, next) => ({ ...first, query: { ...first.query, [param]: String(next.page) } }),
      };
    }
  }
}

/** A vendor answer that pagination cannot continue from. */
export class PaginationError extends Error {}

function withLimit(param: string | undefined) {
  return (base: PageRequest, ctx: PaginationContext): PageRequest =>
    param ? { ...base, query: { ...base.query, [param]: String(ctx.pageSize) } } : base;
}

/** The `rel="next"` target of an RFC 8288 Link header. */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(;|$)/i.test(match[2] as string)) return match[1] as string;
  }
  return null;
}

export type { NextPage, PageResponse };
