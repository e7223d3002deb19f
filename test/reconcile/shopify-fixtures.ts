import { SHOPIFY_OBJECTS } from "../../src/sources/shopify/streams";
import { aShopifyCustomer, aShopifyOrder, aShopifyProduct, shopifyLink, shopTime } from "../../src/sources/shopify/fixtures";

/*
 * A Shopify shop for record-level reconciliation tests: orders, products and customers that
 * change (each change posts a webhook whose body is the whole object, as Shopify's do) and the REST
 * Admin API that lists them, shaped as documented: `GET /admin/api/{version}/{resource}.json`,
 * `updated_at_min` (objects updated at or after), `status=any` for orders, `limit` ≤ 250,
 * `X-Shopify-Access-Token`, cursor pagination through `Link: <…page_info=…>; rel="next"`, where a
 * page_info request may carry nothing but `limit` and `page_info`. Listed by id, not by time.
 */

export type Resource = (typeof SHOPIFY_OBJECTS)[number];

export interface ShopObject {
  resource: Resource;
  id: number;
  /** Every update, in order (ms, whole seconds): the first is the create. */
  updates: number[];
  /** Deleted objects are listed no more. */
  deletedAt?: number;
}

export interface ShopifyWebhook {
  object: ShopObject;
  topic: string;
  eventId: string;
  body: string;
  triggeredAt: number;
}

const BUILDERS = { orders: aShopifyOrder, products: aShopifyProduct, customers: aShopifyCustomer };
const UPDATE_TOPIC: Record<Resource, string> = { orders: "orders/updated", products: "products/update", customers: "customers/update" };

export const lastUpdate = (o: ShopObject): number => o.updates[o.updates.length - 1] ?? 0;

/** The object as the API (and a webhook of its state at `at`) writes it. */
export function objectText(o: ShopObject, at = lastUpdate(o)): string {
  const created = shopTime(o.updates[0] ?? at);
  return BUILDERS[o.resource](o.id, shopTime(at))
    .with({ created_at: created, note: `version ${o.updates.indexOf(at)}` })
    .text();
}

let eventCounter = 0;

/** The webhooks the shop posts: a create, an update per later change, a delete. */
export function webhooksOf(objects: readonly ShopObject[]): ShopifyWebhook[] {
  const out: ShopifyWebhook[] = [];
  for (const o of objects) {
    o.updates.forEach((at, i) => {
      const topic = i === 0 ? `${o.resource}/create` : UPDATE_TOPIC[o.resource];
      out.push({ object: o, topic, eventId: `evt-${++eventCounter}-${o.id}`, body: objectText(o, at), triggeredAt: at });
    });
    if (o.deletedAt !== undefined) {
      out.push({
        object: o,
        topic: `${o.resource}/delete`,
        eventId: `evt-${++eventCounter}-${o.id}`,
        body: JSON.stringify({ id: o.id }),
        triggeredAt: o.deletedAt,
      });
    }
  }
  return out.sort((a, b) => a.triggeredAt - b.triggeredAt);
}

/** `count` objects spread over orders, products and customers, each created at `at(i)`; ids from `firstId`. */
export function shopObjects(count: number, firstId: number, at: (i: number) => number): ShopObject[] {
  return Array.from({ length: count }, (_, i) => ({
    resource: SHOPIFY_OBJECTS[i % SHOPIFY_OBJECTS.length] as Resource,
    id: firstId + i,
    updates: [Math.floor(at(i) / 1000) * 1000],
  }));
}

/**
 * The shop's REST Admin API. Requests are matched strictly (method, origin, path and version,
 * access token, parameters); anything else is answered 400 and noted in `violations`. `failOnCall`
 * answers that call (1-based) with Shopify's 500 body.
 */
export function shopifyAdminApi(
  origin: string,
  version: string,
  token: string,
  objects: () => readonly ShopObject[],
  opts: { failOnCall?: number } = {},
) {
  const api = {
    calls: [] as URL[],
    violations: [] as string[],
    async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const request = input instanceof Request ? input : new Request(String(input), init);
      const url = new URL(request.url);
      api.calls.push(url);
      const refuse = (why: string) => {
        api.violations.push(why);
        return Response.json({ errors: why }, { status: 400 });
      };
      if (request.method !== "GET") return refuse(`method ${request.method}`);
      if (url.origin !== origin) return refuse(`unexpected origin ${url.origin}`);
      if (request.headers.get("x-shopify-access-token") !== token) return refuse("missing or wrong X-Shopify-Access-Token");
      const path = new RegExp(`^/admin/api/${version}/(orders|products|customers)\\.json$`).exec(url.pathname);
      if (!path) return refuse(`unexpected path ${url.pathname}`);
      const resource = path[1] as Resource;
      if (api.calls.length === opts.failOnCall) return Response.json({ errors: "Internal Server Error" }, { status: 500 });
      const limit = Number(url.searchParams.get("limit") ?? "50");
      if (!Number.isInteger(limit) || limit < 1 || limit > 250) return refuse(`limit ${url.searchParams.get("limit")}`);

      let filter: { since: string | null; offset: number };
      const pageInfo = url.searchParams.get("page_info");
      if (pageInfo !== null) {
        for (const k of url.searchParams.keys())
          if (k !== "limit" && k !== "page_info") return refuse(`${k} cannot be passed when page_info is present`);
        filter = JSON.parse(atob(pageInfo));
      } else {
        const allowed = resource === "orders" ? ["limit", "updated_at_min", "status"] : ["limit", "updated_at_min"];
        for (const k of url.searchParams.keys()) if (!allowed.includes(k)) return refuse(`unexpected parameter ${k}`);
        if (resource === "orders" && url.searchParams.get("status") !== "any") return refuse("orders without status=any (only open ones)");
        const since = url.searchParams.get("updated_at_min");
        if (since !== null && !Number.isFinite(Date.parse(since))) return refuse(`updated_at_min ${since}`);
        filter = { since, offset: 0 };
      }
      const sinceMs = filter.since === null ? Number.NEGATIVE_INFINITY : Date.parse(filter.since);
      const matching = objects()
        .filter((o) => o.resource === resource && o.deletedAt === undefined && lastUpdate(o) >= sinceMs)
        .sort((a, b) => a.id - b.id);
      const slice = matching.slice(filter.offset, filter.offset + limit);
      const linkTo = (offset: number) =>
        `${origin}/admin/api/${version}/${resource}.json?limit=${limit}&page_info=${encodeURIComponent(btoa(JSON.stringify({ since: filter.since, offset })))}`;
      const link = shopifyLink(
        filter.offset + limit < matching.length ? linkTo(filter.offset + limit) : null,
        filter.offset > 0 ? linkTo(Math.max(0, filter.offset - limit)) : null,
      );
      const body = `{"${resource}":[${slice.map((o) => objectText(o)).join(",")}]}`;
      return new Response(body, { status: 200, headers: { "content-type": "application/json; charset=utf-8", ...(link ? { link } : {}) } });
    },
  };
  return api;
}
