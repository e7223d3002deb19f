import { arrayText, JsonBuilder } from "../fixture-builder";

/** Test fixtures shaped like Klaviyo's JSON:API answers (events, profiles, errors). */
let counter = 0;

export function aKlaviyoEvent(id = `4sDShKQjrd${++counter}`) {
  return new JsonBuilder({
    type: "event",
    id,
    attributes: { timestamp: 1795590000, event_properties: { value: 12.5 }, datetime: "2026-11-25T07:00:00+00:00", uuid: `uuid-${id}` },
    relationships: { profile: { data: { type: "profile", id: "01GDDKASAP8TKDDA2GRZDSVP4H" } } },
    links: { self: `https://a.klaviyo.com/api/events/${id}/` },
  } as Record<string, unknown>);
}

export function at<B extends JsonBuilder<Record<string, unknown>>>(b: B, field: "datetime" | "updated", iso: string): B {
  return b.with({ attributes: { ...(b.get("attributes") as Record<string, unknown>), [field]: iso } });
}

export function aKlaviyoProfile(id = `01GDDKASAP8TKDDA2GRZDSV${String(++counter).padStart(3, "0")}`) {
  return new JsonBuilder({
    type: "profile",
    id,
    attributes: { email: `${id.toLowerCase()}@example.test`, created: "2026-01-01T00:00:00+00:00", updated: "2026-11-25T07:00:00+00:00" },
    links: { self: `https://a.klaviyo.com/api/profiles/${id}/` },
  } as Record<string, unknown>);
}

/** `{"data":[…],"links":{"self":…,"next":…|null,"prev":null}}`. */
export function klaviyoPage(items: { text(): string }[], self: string, next: string | null): string {
  return `{"data":${arrayText(items)},"links":{"self":${JSON.stringify(self)},"next":${JSON.stringify(next)},"prev":null}}`;
}

export function klaviyoError(status: number, code: string, detail: string): string {
  return JSON.stringify({
    errors: [{ id: "e4eebb08-b055-4a6f-bb13-c8cb69c9eb94", status, code, title: code, detail, source: { pointer: "/data/" } }],
  });
}
