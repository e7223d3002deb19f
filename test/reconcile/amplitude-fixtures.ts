import { anAmplitudeEvent, anExportZip } from "../sources/amplitude-fixtures";

/*
 * An Amplitude project for record-level reconciliation tests: events (immutable; each exported as
 * one JSON line in the file of its `server_upload_time` hour) and the Export API, shaped as
 * documented (amplitude.com "Export API"): `GET /api/2/export?start=YYYYMMDDTHH&end=YYYYMMDDTHH`,
 * Basic auth with the API key and secret key, a ZIP of gzipped JSON-lines files by upload hour, 404
 * when the range holds no data.
 */

export interface ProjectEvent {
  /** The event's upload hour (`YYYYMMDDTHH`) and its number in the project (unique). */
  hour: string;
  n: number;
}

export const eventOf = (e: ProjectEvent) => anAmplitudeEvent(e.n, e.hour);

/** `count` events spread over the hours from `first` (hour of day, UTC) of `dayMs`'s day, `perHour` each. */
export function projectEvents(dayMs: number, first: number, count: number, perHour: number, from = 0): ProjectEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(dayMs + (first + Math.floor(i / perHour)) * 3_600_000).toISOString();
    return { hour: `${at.slice(0, 4)}${at.slice(5, 7)}${at.slice(8, 10)}T${at.slice(11, 13)}`, n: from + i };
  });
}

/** The epoch ms an event's `server_upload_time` stands for (microseconds cut). */
export const uploadMs = (e: ProjectEvent) => Date.parse(`${eventOf(e).event.server_upload_time.replace(" ", "T").slice(0, 23)}Z`);

/**
 * A webhook body as Amplitude's event streaming posts it with a batching template that forwards
 * the export event format as it is: a JSON array of the events, each the exact bytes of its export line.
 */
export const asIsBody = (events: readonly ProjectEvent[]) => `[${events.map((e) => eventOf(e).line()).join(",")}]`;

/** A body whose template keeps `insert_id` but drops `uuid` and `server_upload_time`: not comparable with the export. */
export const withoutUuidBody = (events: readonly ProjectEvent[]) =>
  `[${events
    .map((e) => {
      const { event } = eventOf(e);
      return JSON.stringify({
        insert_id: event.$insert_id,
        event_type: event.event_type,
        user_id: event.user_id,
        event_time: event.event_time,
      });
    })
    .join(",")}]`;

const HOUR = /^\d{8}T\d{2}$/;

/**
 * The project's Export API. Requests are matched strictly (GET, origin, path, Basic credentials,
 * exactly `start` and `end`, both hours, start ≤ end); anything else is answered 400 and noted in
 * `violations`. `failOnCall` answers that call (1-based) with a 500, as a vendor failing midway;
 * `extraLines` are appended to an hour's first file as they are (a line that is not JSON).
 */
export function exportApi(
  origin: string,
  basic: string,
  events: () => readonly ProjectEvent[],
  opts: { failOnCall?: number; extraLines?: Record<string, string[]> } = {},
) {
  const api = {
    calls: [] as URL[],
    violations: [] as string[],
    async handle(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const request = input instanceof Request ? input : new Request(String(input), init);
      const url = new URL(request.url);
      api.calls.push(url);
      const bad = (why: string) => {
        api.violations.push(`${request.method} ${url}: ${why}`);
        return new Response(JSON.stringify({ error: why }), { status: 400 });
      };
      if (request.method !== "GET") return bad("not GET");
      if (url.origin !== origin || url.pathname !== "/api/2/export") return bad("unknown endpoint");
      if (request.headers.get("authorization") !== basic) return bad("wrong credentials");
      const start = url.searchParams.get("start") ?? "";
      const end = url.searchParams.get("end") ?? "";
      if ([...url.searchParams.keys()].sort().join(",") !== "end,start") return bad("parameters other than start and end");
      if (!HOUR.test(start) || !HOUR.test(end) || start > end) return bad("start/end are not an hour range");
      if (opts.failOnCall === api.calls.length) return new Response("Internal Server Error", { status: 500 });
      const byHour: Record<string, string[][]> = {};
      for (const e of events()) {
        if (e.hour < start || e.hour > end) continue;
        byHour[e.hour] = byHour[e.hour] ?? [[], []];
        const files = byHour[e.hour] as string[][];
        // Two files an hour, as a busy project's export has: odd events in the second.
        (files[e.n % 2] as string[]).push(eventOf(e).line());
      }
      for (const [hour, lines] of Object.entries(opts.extraLines ?? {})) {
        if (hour < start || hour > end) continue;
        byHour[hour] = byHour[hour] ?? [[], []];
        ((byHour[hour] as string[][])[0] as string[]).push(...lines);
      }
      for (const files of Object.values(byHour)) if ((files[1] as string[]).length === 0) files.pop();
      if (Object.keys(byHour).length === 0) return new Response('{"error":"Raw data files were not found."}', { status: 404 });
      return new Response(anExportZip(187520, byHour), { headers: { "content-type": "application/zip" } });
    },
  };
  return api;
}
