import { arrayText, JsonBuilder } from "../fixture-builder";

/** Test fixtures shaped like HubSpot's CRM v3 object, search and list responses. */
let counter = 100;

export function aHubspotContact(id = String(++counter)) {
  return new JsonBuilder({
    id,
    properties: {
      email: `c${id}@example.test`,
      hs_object_id: id,
      lastmodifieddate: "2026-11-25T07:00:00.000Z",
      createdate: "2026-01-01T00:00:00.000Z",
    },
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-11-25T07:00:00.000Z",
    archived: false as boolean,
  } as Record<string, unknown>);
}

/** A record at a modified time (both `updatedAt` and the modified-date property). */
export function modifiedAt<B extends JsonBuilder<Record<string, unknown>>>(b: B, iso: string, property = "lastmodifieddate"): B {
  const props = { ...(b.get("properties") as Record<string, unknown>), [property]: iso };
  return b.with({ updatedAt: iso, properties: props });
}

export function archived<B extends JsonBuilder<Record<string, unknown>>>(b: B, archivedAt: string): B {
  return b.with({ archived: true, archivedAt });
}

/** `{"total":…,"results":[…],"paging":{"next":{"after":…}}}` (no paging on the last page). */
export function hubspotPage(results: (string | { text(): string })[], opts: { total?: number; after?: string } = {}): string {
  const paging = opts.after ? `,"paging":{"next":{"after":"${opts.after}","link":"?after=${opts.after}"}}` : "";
  return `{"total":${opts.total ?? results.length},"results":${arrayText(results)}${paging}}`;
}

/** The search body HubSpot expects for a modified-date window. */
export function searchBody(property: string, sinceMs: number | string, limit: number, after?: string, properties?: string[]) {
  return {
    filterGroups: [{ filters: [{ propertyName: property, operator: "GTE", value: String(sinceMs) }] }],
    sorts: [{ propertyName: property, direction: "ASCENDING" }],
    ...(properties ? { properties } : {}),
    limit,
    ...(after ? { after } : {}),
  };
}

/** HubSpot's error body (`status` is the word "error"; the HTTP status is the answer's). */
export function hubspotError(category: string, message: string): string {
  return JSON.stringify({ status: "error", message, correlationId: "0b5ab6b2-1b3d-4d4e-9e4a-000000000000", category });
}
