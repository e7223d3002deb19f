import { arrayText, JsonBuilder } from "../fixture-builder";

/*
 * Test fixtures shaped like Shopify's REST Admin API (orders, products, customers) and its
 * webhook payloads, which are the same objects. Times as Shopify writes them: whole seconds in
 * the shop's UTC offset ("2026-11-25T02:00:00-05:00").
 */

/** `ms` as Shopify writes it, in a shop at UTC−5. */
export function shopTime(ms: number): string {
  return `${new Date(ms - 5 * 3_600_000).toISOString().slice(0, 19)}-05:00`;
}

export function aShopifyOrder(id: number, updatedAt: string) {
  return new JsonBuilder({
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    name: `#${1000 + (id % 100_000)}`,
    email: `buyer${id}@example.test`,
    created_at: updatedAt,
    updated_at: updatedAt,
    financial_status: "paid",
    fulfillment_status: null as string | null,
    currency: "USD",
    total_price: "199.00",
    line_items: [] as unknown[],
  } as Record<string, unknown>);
}

export function aShopifyProduct(id: number, updatedAt: string) {
  return new JsonBuilder({
    id,
    admin_graphql_api_id: `gid://shopify/Product/${id}`,
    title: `Product ${id}`,
    vendor: "Acme",
    product_type: "Widgets",
    handle: `product-${id}`,
    status: "active",
    created_at: updatedAt,
    updated_at: updatedAt,
    variants: [] as unknown[],
  } as Record<string, unknown>);
}

export function aShopifyCustomer(id: number, updatedAt: string) {
  return new JsonBuilder({
    id,
    admin_graphql_api_id: `gid://shopify/Customer/${id}`,
    email: `customer${id}@example.test`,
    first_name: "Ada",
    last_name: `Customer${id}`,
    state: "enabled",
    created_at: updatedAt,
    updated_at: updatedAt,
  } as Record<string, unknown>);
}

/** A list answer: `{"orders":[…]}` (the resource name is the key). */
export function shopifyList(resource: string, records: (string | { text(): string })[]): string {
  return `{"${resource}":${arrayText(records)}}`;
}

/** The `Link` header of a cursor-paginated answer: `<…page_info=…>; rel="next"` (and previous, when given). */
export function shopifyLink(next: string | null, previous: string | null = null): string | undefined {
  const parts = [...(previous ? [`<${previous}>; rel="previous"`] : []), ...(next ? [`<${next}>; rel="next"`] : [])];
  return parts.length ? parts.join(", ") : undefined;
}
