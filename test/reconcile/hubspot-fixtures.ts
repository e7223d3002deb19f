import { seeded } from "../../src/lib/seeded";
import { HUBSPOT_OBJECTS } from "../../src/sources/hubspot/streams";
import { hubspotError, searchBody } from "../../src/sources/hubspot/fixtures";

/*
 * A HubSpot portal for record-level reconciliation tests: objects that change (each change posts
 * a webhook event, as HubSpot's v3 webhooks do) and the CRM APIs that list them, shaped as
 * documented: `POST /crm/v3/objects/{type}/search` (modified date GTE epoch ms, ascending, `after`
 * offsets, archived objects never returned) and `GET /crm/v3/objects/{type}?archived=true`.
 */

export type ObjectType = (typeof HUBSPOT_OBJECTS)[number]["type"];
const SINGULAR: Record<ObjectType, string> = { contacts: "contact", companies: "company", deals: "deal", tickets: "ticket" };
const MODIFIED = Object.fromEntries(HUBSPOT_OBJECTS.map((o) => [o.type, o.modified])) as Record<ObjectType, string>;

export interface PortalObject {
  type: ObjectType;
  id: string;
  /** Every change, in order: its time (ms) and the property it set. */
  changes: { at: number; property: string; value: string }[];
  archivedAt?: number;
}

export interface HubspotEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  propertyName?: string;
  propertyValue?: string;
  changeSource: string;
}

let eventCounter = 1000;

/** The webhook events the portal posts for its objects' changes (and deletions), in time order. */
export function eventsOf(objects: readonly PortalObject[]): { object: PortalObject; event: HubspotEvent }[] {
  const out: { object: PortalObject; event: HubspotEvent }[] = [];
  for (const o of objects) {
    const base = { portalId: 62515, appId: 54321, attemptNumber: 0, objectId: Number(o.id), changeSource: "CRM" };
    for (const c of o.changes) {
      out.push({
        object: o,
        event: {
          ...base,
          eventId: ++eventCounter,
          subscriptionId: 7001,
          occurredAt: c.at,
          subscriptionType: `${SINGULAR[o.type]}.propertyChange`,
          propertyName: c.property,
          propertyValue: c.value,
        },
      });
    }
    if (o.archivedAt !== undefined) {
      out.push({
        object: o,
        event: {
          ...base,
          eventId: ++eventCounter,
          subscriptionId: 7002,
          occurredAt: o.archivedAt,
          subscriptionType: `${SINGULAR[o.type]}.deletion`,
        },
      });
    }
  }
  return out.sort((a, b) => a.event.occurredAt - b.event.occurredAt);
}

const iso = (ms: number) => new Date(ms).toISOString();
const lastChange = (o: PortalObject) => o.changes[o.changes.length - 1]?.at ?? 0;

/** The object as the CRM API returns it: its current properties, `updatedAt` its last modification. */
export function objectJson(o: PortalObject): Record<string, unknown> {
  const properties: Record<string, string> = {
    hs_object_id: o.id,
    createdate: iso(o.changes[0]?.at ?? 0),
    [MODIFIED[o.type]]: iso(lastChange(o)),
  };
  for (const c of o.changes) properties[c.property] = c.value;
  return {
    id: o.id,
    properties,
    createdAt: iso(o.changes[0]?.at ?? 0),
    updatedAt: iso(lastChange(o)),
    archived: o.archivedAt !== undefined,
    ...(o.archivedAt !== undefined ? { archivedAt: iso(o.archivedAt) } : {}),
  };
}

/** The newest version the portal would list for an object: its archival, else its last change. */
export const listedAt = (o: PortalObject): number => o.archivedAt ?? lastChange(o);

/**
 * The portal's CRM API. Requests are matched strictly (method, origin, path, bearer token, exact
 * search body); anything else is answered 400 and noted in `violations`. `failOnCall` answers that
 * call (1-based) with HubSpot's 500 error body.
 */
export function hubspotCrmApi(origin: string, token: string, objects: () => readonly PortalObject[], opts: { failOnCall?: number } = {}) {
  const api = {
    calls: [] as { method: string; url: URL; body: string }[],
    violations: [] as string[],
    failOnCall: opts.failOnCall ?? 0,
    async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const request = input instanceof Request ? input : new Request(String(input), init);
      const url = new URL(request.url);
      const body = request.method === "POST" ? await request.text() : "";
      api.calls.push({ method: request.method, url, body });
      const refuse = (why: string) => {
        api.violations.push(why);
        return new Response(hubspotError("VALIDATION_ERROR", why), { status: 400 });
      };
      if (url.origin !== origin) return refuse(`unexpected origin ${url.origin}`);
      if (request.headers.get("authorization") !== `Bearer ${token}`) return refuse("missing or wrong token");
      if (api.calls.length === api.failOnCall) return new Response(hubspotError("INTERNAL_ERROR", "internal error"), { status: 500 });
      const search = /^\/crm\/v3\/objects\/(contacts|companies|deals|tickets)\/search$/.exec(url.pathname);
      const list = /^\/crm\/v3\/objects\/(contacts|companies|deals|tickets)$/.exec(url.pathname);
      if (search && request.method === "POST") {
        const type = search[1] as ObjectType;
        if (request.headers.get("content-type") !== "application/json") return refuse("search without a JSON content type");
        const parsed = JSON.parse(body);
        const since = parsed.filterGroups?.[0]?.filters?.[0]?.value;
        if (
          JSON.stringify(parsed) !== JSON.stringify(searchBody(MODIFIED[type], since, parsed.limit, parsed.after)) ||
          parsed.limit > 200
        ) {
          return refuse(`unexpected search body ${body}`);
        }
        const matching = objects()
          .filter((o) => o.type === type && o.archivedAt === undefined && lastChange(o) >= Number(since))
          .sort((a, b) => lastChange(a) - lastChange(b) || Number(a.id) - Number(b.id));
        const offset = Number(parsed.after ?? 0);
        if (offset + parsed.limit > 10_000) return new Response(hubspotError("VALIDATION_ERROR", "past 10,000 results"), { status: 400 });
        return page(
          matching.slice(offset, offset + parsed.limit),
          matching.length,
          offset + parsed.limit < matching.length ? String(offset + parsed.limit) : undefined,
        );
      }
      if (list && request.method === "GET") {
        const type = list[1] as ObjectType;
        for (const k of url.searchParams.keys())
          if (!["archived", "limit", "after"].includes(k)) return refuse(`unexpected parameter ${k}`);
        if (url.searchParams.get("archived") !== "true") return refuse("a list without archived=true");
        const limit = Number(url.searchParams.get("limit") ?? "10");
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) return refuse(`limit ${limit}`);
        const archived = objects().filter((o) => o.type === type && o.archivedAt !== undefined);
        const offset = Number(url.searchParams.get("after") ?? "0");
        return page(
          archived.slice(offset, offset + limit),
          undefined,
          offset + limit < archived.length ? String(offset + limit) : undefined,
        );
      }
      return refuse(`unexpected ${request.method} ${url.pathname}`);
    },
  };
  return api;
}

function page(results: readonly PortalObject[], total: number | undefined, after: string | undefined): Response {
  const body = {
    ...(total !== undefined ? { total } : {}),
    results: results.map(objectJson),
    ...(after ? { paging: { next: { after, link: `?after=${after}` } } } : {}),
  };
  return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
}

/** `count` objects spread over the four types, each changed once at `at(i)`; ids start at `firstId`. */
export function portalObjects(count: number, firstId: number, at: (i: number) => number): PortalObject[] {
  const types = HUBSPOT_OBJECTS.map((o) => o.type);
  return Array.from({ length: count }, (_, i) => ({
    type: types[i % types.length] as ObjectType,
    id: String(firstId + i),
    changes: [{ at: at(i), property: "name", value: `v${i}` }],
  }));
}

export { seeded };
