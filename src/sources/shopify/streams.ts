import type { PollStream } from "../../pollers/types";
import { SHOPIFY_API_VERSION } from "./auth";

/** The REST resources listed by modification time; each is also where webhooks of its topics are filed. */
export const SHOPIFY_OBJECTS = ["orders", "products", "customers"] as const;

/**
 * `GET /admin/api/{version}/{resource}.json?updated_at_min=…` (orders with `status=any`, else only open ones are listed),
 * 250 a page, cursor pagination through the `Link: <…page_info=…>; rel="next"` header (a page_info
 * request carries no other filter; the first request's filters travel inside it). Version:
 * `updated_at` with a digest of the record beside it. Shopify documents no sort by `updated_at`
 * for these lists, so the cursor is not ascending: a poll moves it when the run succeeds, and a
 * reconciliation reads the whole list and keeps the records whose `updated_at` falls in its window.
 */
export function shopifyListStream(resource: (typeof SHOPIFY_OBJECTS)[number]): PollStream {
  return {
    name: resource,
    path: `/admin/api/${SHOPIFY_API_VERSION}/${resource}.json`,
    ...(resource === "orders" ? { params: { status: "any" } } : {}),
    records: resource,
    primaryKey: "id",
    cursor: { kind: "updated_at", field: "updated_at", param: "updated_at_min", lookbackSeconds: 300 },
    pagination: { style: "link_header", limitParam: "limit" },
    pageSize: 250,
    intervalMinutes: 15,
  };
}

export const shopifyStreams: PollStream[] = SHOPIFY_OBJECTS.map(shopifyListStream);
