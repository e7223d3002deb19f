import { aKlaviyoEvent, aKlaviyoProfile, at, klaviyoError, klaviyoPage } from "../../src/sources/klaviyo/fixtures";

/*
 * A Klaviyo account for record-level reconciliation tests: events (immutable; each one a system
 * webhook item whose `external_id` is the event id and whose `payload` is the event as the Events
 * API returns it) and profiles that change, and the JSON:API listings, shaped as documented:
 * `GET /api/events?sort=datetime&filter=greater-than(datetime,…)` (pages of 200, fixed) and
 * `GET /api/profiles?sort=updated&filter=greater-than(updated,…)&page[size]=…` (≤ 100), continued by
 * the absolute `links.next` URL (an opaque `page[cursor]`).
 */

export interface AccountEvent {
  id: string;
  /** Epoch ms, whole seconds (Klaviyo's `datetime` has seconds). */
  at: number;
}

export interface AccountProfile {
  id: string;
  /** Every `updated` (epoch ms, whole seconds), in order. */
  updates: number[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "+00:00");

export const eventJson = (e: AccountEvent) => at(aKlaviyoEvent(e.id), "datetime", iso(e.at)).with({ id: e.id });

export function profileJson(p: AccountProfile, upTo = p.updates.length) {
  const b = at(aKlaviyoProfile(p.id), "updated", iso(p.updates[upTo - 1] ?? 0));
  return b.with({ attributes: { ...(b.get("attributes") as Record<string, unknown>), properties: { revision: upTo } } });
}

/** A system-webhook body: `data` items (`topic`, `external_id`, `payload`) and `meta`. */
export function webhookBody(events: readonly AccountEvent[], webhookId: string): string {
  const items = events.map(
    (e) => `{"topic":"event:klaviyo.email_delivered","external_id":${JSON.stringify(e.id)},"payload":${eventJson(e).text()}}`,
  );
  return `{"data":[${items.join(",")}],"meta":{"klaviyo_account_id":"AbC123","klaviyo_webhook_id":${JSON.stringify(webhookId)},"timestamp":"${iso(Date.now() - (Date.now() % 1000))}"}}`;
}

export const lastUpdate = (p: AccountProfile) => p.updates[p.updates.length - 1] ?? 0;

/**
 * The account's Events and Profiles APIs. Requests are matched strictly (GET, origin, path, API key,
 * pinned revision, exactly the documented parameters, a `page[cursor]` this fake issued for the same
 * query); anything else is answered 400 and noted in `violations`. `failOnCall` answers that call
 * (1-based) with a 500 error body. `profilesUpTo` says how many updates of each profile are visible.
 */
export function klaviyoApi(
  origin: string,
  key: string,
  data: () => { events: readonly AccountEvent[]; profiles: readonly AccountProfile[] },
  opts: { failOnCall?: number; profilesUpTo?: (p: AccountProfile) => number } = {},
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
        return new Response(klaviyoError(400, "invalid", why), { status: 400, headers: { "content-type": "application/vnd.api+json" } });
      };
      if (url.origin !== origin) return refuse(`unexpected origin ${url.origin}`);
      if (request.method !== "GET") return refuse(`method ${request.method}`);
      if (request.headers.get("authorization") !== `Klaviyo-API-Key ${key}`) return refuse("missing or wrong API key");
      if (request.headers.get("revision") !== "2024-10-15") return refuse("revision not pinned");
      const kind = url.pathname === "/api/events" ? "events" : url.pathname === "/api/profiles" ? "profiles" : null;
      if (!kind) return refuse(`unexpected path ${url.pathname}`);
      const field = kind === "events" ? "datetime" : "updated";
      const allowed = new Set(["sort", "filter", "page[cursor]", ...(kind === "profiles" ? ["page[size]"] : [])]);
      for (const k of url.searchParams.keys()) if (!allowed.has(k)) return refuse(`unexpected parameter ${k}`);
      if (url.searchParams.get("sort") !== field) return refuse(`sort must be ${field}`);
      const filter = url.searchParams.get("filter");
      let since = Number.NEGATIVE_INFINITY;
      if (filter !== null) {
        const m = new RegExp(`^greater-than\\(${field},([^)]+)\\)$`).exec(filter);
        if (!m || !Number.isFinite(Date.parse(m[1] as string))) return refuse(`unexpected filter ${filter}`);
        since = Date.parse(m[1] as string);
      }
      const size = kind === "events" ? 200 : Number(url.searchParams.get("page[size]") ?? "20");
      if (!Number.isInteger(size) || size < 1 || (size > 100 && kind === "profiles")) return refuse(`page[size] ${size}`);
      const cursor = url.searchParams.get("page[cursor]");
      let offset = 0;
      if (cursor !== null) {
        const [f, o] = JSON.parse(atob(cursor)) as [string | null, number];
        if (f !== filter) return refuse(`page[cursor] ${cursor} was not issued for this query`);
        offset = o;
      }
      if (api.calls.length === opts.failOnCall)
        return new Response(klaviyoError(500, "server_error", "A server error occurred."), { status: 500 });
      const { events, profiles } = data();
      const items =
        kind === "events"
          ? events
              .filter((e) => e.at > since)
              .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1))
              .map(eventJson)
          : profiles
              .map((p) => ({ p, n: opts.profilesUpTo?.(p) ?? p.updates.length }))
              .filter(({ p, n }) => n > 0 && (p.updates[n - 1] ?? 0) > since)
              .sort((a, b) => (a.p.updates[a.n - 1] ?? 0) - (b.p.updates[b.n - 1] ?? 0) || (a.p.id < b.p.id ? -1 : 1))
              .map(({ p, n }) => profileJson(p, n));
      const page = items.slice(offset, offset + size);
      let next: string | null = null;
      if (offset + size < items.length) {
        const n = new URL(url);
        n.searchParams.set("page[cursor]", btoa(JSON.stringify([filter, offset + size])));
        next = n.toString();
      }
      return new Response(klaviyoPage(page, url.toString(), next), {
        status: 200,
        headers: { "content-type": "application/vnd.api+json" },
      });
    },
  };
  return api;
}
