import { seeded } from "../../src/lib/seeded";
import { aZendeskOrganization, aZendeskTicket, aZendeskUser, timeExportPage } from "../../src/sources/zendesk/fixtures";

/*
 * A Zendesk account for record-level reconciliation tests: tickets, users and organizations that
 * change (each change posts a Zendesk event webhook, `zen:event-type:<object>.<change>`, shaped as
 * developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types documents it), and the
 * time-based incremental exports that list them (`GET /api/v2/incremental/{resource}.json
 * ?start_time=<epoch s>`: items changed at or after start_time in ascending order, up to per_page,
 * `end_time` = the last item's time, `end_of_stream` when the page is not full).
 */

export type ZendeskKind = "tickets" | "users" | "organizations";
const SINGULAR: Record<ZendeskKind, string> = { tickets: "ticket", users: "user", organizations: "organization" };
export const KINDS: ZendeskKind[] = ["tickets", "users", "organizations"];

export interface AccountObject {
  kind: ZendeskKind;
  id: string;
  /** Every change's time, ms on a whole second (Zendesk's times are seconds), in order. */
  changes: number[];
  deletedAt?: number;
}

export interface ZendeskEvent {
  type: string;
  account_id: number;
  id: string;
  time: string;
  zendesk_event_version: string;
  subject: string;
  detail: Record<string, unknown>;
  event: Record<string, unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
let eventCounter = 0;

function eventOf(o: AccountObject, at: number, change: string): ZendeskEvent {
  eventCounter++;
  return {
    type: `zen:event-type:${SINGULAR[o.kind]}.${change}`,
    account_id: 12514403,
    id: `2b24ef10-19d4-4740-93cf-${String(eventCounter).padStart(12, "0")}`,
    time: iso(at),
    zendesk_event_version: "2022-11-06",
    subject: `zen:${SINGULAR[o.kind]}:${o.id}`,
    detail: { id: o.id, created_at: iso(o.changes[0] ?? at), updated_at: iso(at) },
    event: {},
  };
}

/** The event webhooks the account posts for its objects' changes (and deletions), in time order. */
export function eventsOf(objects: readonly AccountObject[]): { object: AccountObject; event: ZendeskEvent }[] {
  const out: { object: AccountObject; event: ZendeskEvent }[] = [];
  for (const o of objects) {
    o.changes.forEach((at, i) => {
      out.push({ object: o, event: eventOf(o, at, i === 0 ? "created" : o.kind === "tickets" ? "status_changed" : "name_changed") });
    });
    if (o.deletedAt !== undefined) out.push({ object: o, event: eventOf(o, o.deletedAt, "deleted") });
  }
  return out.sort((a, b) => Date.parse(a.event.time) - Date.parse(b.event.time));
}

/** The newest version the export would list for an object: its deletion, else its last change (ms). */
export const listedAt = (o: AccountObject): number => o.deletedAt ?? (o.changes[o.changes.length - 1] as number);

/** The object as the export returns it, in the state its last change (or deletion) left it. */
export function objectText(o: AccountObject): string {
  const at = listedAt(o);
  const id = Number(o.id);
  if (o.kind === "tickets") {
    return aZendeskTicket(id)
      .with({
        status: o.deletedAt !== undefined ? "deleted" : `v${o.changes.length}`,
        updated_at: iso(at),
        generated_timestamp: at / 1000,
        created_at: iso(o.changes[0] as number),
      })
      .text();
  }
  if (o.kind === "users") {
    return aZendeskUser(id)
      .with({
        name: `User ${id} v${o.changes.length}`,
        active: o.deletedAt === undefined,
        updated_at: iso(at),
        created_at: iso(o.changes[0] as number),
      })
      .text();
  }
  return aZendeskOrganization(id)
    .with({ name: `Org ${id} v${o.changes.length}`, updated_at: iso(at), deleted_at: o.deletedAt !== undefined ? iso(at) : null })
    .text();
}

/**
 * The account's time-based incremental exports. Requests are matched strictly (GET, origin, path,
 * Basic `{email}/token:{api token}`, only `start_time` as whole epoch seconds and `per_page` ≤ 1000);
 * anything else is answered 400 and noted in `violations`. `failOnCall` answers that call (1-based)
 * with a 500, as an export failing midway.
 */
export function zendeskExportApi(
  origin: string,
  auth: { email: string; token: string },
  objects: () => readonly AccountObject[],
  opts: { failOnCall?: number } = {},
) {
  const basic = `Basic ${btoa(`${auth.email}/token:${auth.token}`)}`;
  const api = {
    calls: [] as URL[],
    violations: [] as string[],
    async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const request = input instanceof Request ? input : new Request(String(input), init);
      const url = new URL(request.url);
      api.calls.push(url);
      const refuse = (why: string) => {
        api.violations.push(why);
        return Response.json({ error: "InvalidValue", description: why }, { status: 400 });
      };
      if (request.method !== "GET") return refuse(`method ${request.method}`);
      if (url.origin !== origin) return refuse(`unexpected origin ${url.origin}`);
      if (request.headers.get("authorization") !== basic) return refuse("missing or wrong credentials");
      const match = /^\/api\/v2\/incremental\/(tickets|users|organizations)\.json$/.exec(url.pathname);
      if (!match) return refuse(`unexpected path ${url.pathname}`);
      for (const k of url.searchParams.keys()) if (!["start_time", "per_page"].includes(k)) return refuse(`unexpected parameter ${k}`);
      const startText = url.searchParams.get("start_time") ?? "";
      if (!/^\d+$/.test(startText)) return refuse(`start_time ${startText} is not epoch seconds`);
      const perPage = Number(url.searchParams.get("per_page") ?? "1000");
      if (!Number.isInteger(perPage) || perPage < 1 || perPage > 1000) return refuse(`per_page ${perPage}`);
      if (api.calls.length === opts.failOnCall)
        return Response.json({ error: "InternalError", description: "Internal Server Error" }, { status: 500 });
      const kind = match[1] as ZendeskKind;
      const start = Number(startText) * 1000;
      const matching = objects()
        .filter((o) => o.kind === kind && listedAt(o) >= start)
        .sort((a, b) => listedAt(a) - listedAt(b) || Number(a.id) - Number(b.id));
      const items = matching.slice(0, perPage);
      const last = items[items.length - 1];
      const endTime = last ? listedAt(last) / 1000 : Number(startText);
      const text = timeExportPage(
        kind,
        items.map((o) => ({ text: () => objectText(o) })),
        endTime,
        items.length < perPage,
      );
      return new Response(text, { status: 200, headers: { "content-type": "application/json; charset=utf-8" } });
    },
  };
  return api;
}

/** `count` objects spread over the three kinds, each changed once at `at(i)` (whole seconds); ids from `firstId`. */
export function accountObjects(
  count: number,
  firstId: number,
  at: (i: number) => number,
  kinds: readonly ZendeskKind[] = KINDS,
): AccountObject[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: kinds[i % kinds.length] as ZendeskKind,
    id: String(firstId + i),
    changes: [Math.floor(at(i) / 1000) * 1000],
  }));
}

export { seeded };
