import { anIntercomContact, anIntercomConversation, intercomError, searchAnswer, searchBody } from "../../src/sources/intercom/fixtures";

/*
 * An Intercom workspace for record-level reconciliation tests: contacts and conversations that
 * change (each change sends a `notification_event` whose `data.item` is the object as it then was,
 * as Intercom's webhooks do) and the search APIs that list them, shaped as documented:
 * `POST /{contacts|conversations}/search` with `updated_at > since` (Unix seconds), ascending,
 * `per_page` ≤ 150 and opaque `pages.next.starting_after` cursors.
 */

export type IntercomKind = "contacts" | "conversations";

export interface WorkspaceObject {
  kind: IntercomKind;
  id: string;
  /** Every change, in order: its time (Unix seconds) and the topic that notified it. */
  changes: { at: number; topic: string }[];
}

export interface Notification {
  type: "notification_event";
  app_id: string;
  data: { type: "notification_event_data"; item: Record<string, unknown> };
  links: Record<string, never>;
  id: string;
  topic: string;
  delivery_status: string;
  delivery_attempts: number;
  delivered_at: number;
  first_sent_at: number;
  created_at: number;
  self: null;
}

const lastChange = (o: WorkspaceObject) => o.changes[o.changes.length - 1]?.at ?? 0;
/** The newest version the search would list (Unix seconds). */
export const listedAt = lastChange;

/** The object as the API returns it after `upTo` of its changes (all by default). */
export function objectJson(o: WorkspaceObject, upTo = o.changes.length) {
  const at = o.changes[upTo - 1]?.at ?? 0;
  const b = o.kind === "contacts" ? anIntercomContact(o.id) : anIntercomConversation(o.id);
  return b.with({ created_at: o.changes[0]?.at ?? 0, updated_at: at, custom_attributes: { revision: upTo } });
}

let notifCounter = 0;

/** The notifications the workspace sends for its objects' changes, in time order. */
export function notificationsOf(objects: readonly WorkspaceObject[]): { object: WorkspaceObject; notification: Notification }[] {
  const out: { object: WorkspaceObject; notification: Notification }[] = [];
  for (const o of objects) {
    o.changes.forEach((c, i) => {
      out.push({
        object: o,
        notification: {
          type: "notification_event",
          app_id: "ecahpwf5",
          data: { type: "notification_event_data", item: JSON.parse(objectJson(o, i + 1).text()) },
          links: {},
          id: `notif_${(++notifCounter).toString(16).padStart(8, "0")}-5fa1-4b1c-9d1e-2a3b4c5d6e7f`,
          topic: c.topic,
          delivery_status: "pending",
          delivery_attempts: 1,
          delivered_at: 0,
          first_sent_at: c.at,
          created_at: c.at,
          self: null,
        },
      });
    });
  }
  return out.sort((a, b) => a.notification.created_at - b.notification.created_at);
}

/** `count` objects, alternately contacts (24-hex ids) and conversations (numeric ids), each changed once at `at(i)`. */
export function workspaceObjects(count: number, tag: number, at: (i: number) => number): WorkspaceObject[] {
  return Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? {
          kind: "contacts" as const,
          id: `${tag.toString(16).padStart(6, "0")}${i.toString(16).padStart(18, "0")}`,
          changes: [{ at: at(i), topic: "contact.user.created" }],
        }
      : { kind: "conversations" as const, id: String(tag * 100_000 + i), changes: [{ at: at(i), topic: "conversation.user.created" }] },
  );
}

const cursorOf = (since: number, offset: number) => btoa(JSON.stringify([since, offset]));

/**
 * The workspace's search API. Requests are matched strictly (method, origin, path, bearer token,
 * pinned Intercom-Version, exact body, a `starting_after` it issued for the same query); anything
 * else is answered 400 and noted in `violations`. `failOnCall` answers that call (1-based) with 500.
 */
export function intercomSearchApi(
  origin: string,
  token: string,
  objects: () => readonly WorkspaceObject[],
  opts: { failOnCall?: number } = {},
) {
  const api = {
    calls: [] as { url: URL; body: string }[],
    violations: [] as string[],
    async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const request = input instanceof Request ? input : new Request(String(input), init);
      const url = new URL(request.url);
      const body = request.method === "POST" ? await request.text() : "";
      api.calls.push({ url, body });
      const refuse = (why: string) => {
        api.violations.push(why);
        return new Response(intercomError("parameter_invalid", why), { status: 400, headers: { "content-type": "application/json" } });
      };
      if (url.origin !== origin) return refuse(`unexpected origin ${url.origin}`);
      if (request.headers.get("authorization") !== `Bearer ${token}`) return refuse("missing or wrong token");
      if (request.headers.get("intercom-version") !== "2.11") return refuse("Intercom-Version not pinned");
      const search = /^\/(contacts|conversations)\/search$/.exec(url.pathname);
      if (!search || request.method !== "POST" || url.search !== "")
        return refuse(`unexpected ${request.method} ${url.pathname}${url.search}`);
      if (request.headers.get("content-type") !== "application/json") return refuse("search without a JSON content type");
      if (api.calls.length === opts.failOnCall) return new Response(intercomError("server_error", "internal error"), { status: 500 });
      const kind = search[1] as IntercomKind;
      const parsed = JSON.parse(body);
      const since = parsed.query?.value;
      const perPage = parsed.pagination?.per_page;
      const after = parsed.pagination?.starting_after;
      if (JSON.stringify(parsed) !== JSON.stringify(searchBody(since, perPage, after)) || !Number.isInteger(since) || perPage > 150) {
        return refuse(`unexpected search body ${body}`);
      }
      let offset = 0;
      if (after !== undefined) {
        const [s, o] = JSON.parse(atob(after)) as [number, number];
        if (s !== since || after !== cursorOf(s, o)) return refuse(`starting_after ${after} was not issued for this query`);
        offset = o;
      }
      const matching = objects()
        .filter((o) => o.kind === kind && lastChange(o) > since)
        .sort((a, b) => lastChange(a) - lastChange(b) || (a.id < b.id ? -1 : 1));
      const pageItems = matching.slice(offset, offset + perPage).map((o) => objectJson(o));
      const next = offset + perPage < matching.length ? cursorOf(since, offset + perPage) : undefined;
      return new Response(searchAnswer(kind, pageItems, next, matching.length), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    },
  };
  return api;
}
