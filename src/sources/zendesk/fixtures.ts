import { arrayText, JsonBuilder } from "../fixture-builder";

/** Test fixtures shaped like Zendesk's incremental export answers (tickets, users, organizations). */
let counter = 1000;
const T0 = Date.parse("2026-11-25T07:00:00Z") / 1000;

export function aZendeskTicket(id = ++counter) {
  return new JsonBuilder({
    url: `https://acme.zendesk.com/api/v2/tickets/${id}.json`,
    id,
    subject: `Ticket ${id}`,
    status: "open",
    updated_at: "2026-11-25T07:00:00Z",
    generated_timestamp: T0,
    created_at: "2026-11-01T00:00:00Z",
  } as Record<string, unknown>);
}

export function aZendeskOrganization(id = ++counter) {
  return new JsonBuilder({ id, name: `Org ${id}`, updated_at: "2026-11-25T07:00:00Z", deleted_at: null } as Record<string, unknown>);
}

export function aZendeskUser(id = ++counter) {
  return new JsonBuilder({
    id,
    url: `https://acme.zendesk.com/api/v2/users/${id}.json`,
    name: `User ${id}`,
    email: `user${id}@example.com`,
    role: "end-user",
    active: true,
    created_at: "2026-11-01T00:00:00Z",
    updated_at: "2026-11-25T07:00:00Z",
  } as Record<string, unknown>);
}

/** A cursor-based export page: `{"<resource>":[…],"after_cursor":…,"end_of_stream":…}`. */
export function cursorExportPage(resource: string, items: { text(): string }[], afterCursor: string, endOfStream: boolean): string {
  return `{"${resource}":${arrayText(items)},"after_url":"https://acme.zendesk.com/api/v2/incremental/${resource}/cursor.json?cursor=${afterCursor}","after_cursor":"${afterCursor}","before_url":null,"before_cursor":null,"end_of_stream":${endOfStream}}`;
}

/** A time-based export page. */
export function timeExportPage(resource: string, items: { text(): string }[], endTime: number, endOfStream: boolean): string {
  return `{"${resource}":${arrayText(items)},"next_page":"https://acme.zendesk.com/api/v2/incremental/${resource}.json?start_time=${endTime}","count":${items.length},"end_of_stream":${endOfStream},"end_time":${endTime}}`;
}

export const ZENDESK_T0 = T0;
