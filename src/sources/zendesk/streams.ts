import { PaginationError } from "../../pollers/pagination";
import type { PageRequest, PaginationStyle, PollStream } from "../../pollers/types";

/**
 * Cursor-based incremental export: the first request ever names a start time (0: all history),
 * every later one only the opaque `after_cursor` of the page before — also across runs, since the
 * cursor stored at the end (`end_of_stream: true`) is the place the next run continues from.
 */
const cursorExport: PaginationStyle = {
  name: "zendesk_cursor_export",
  first: (base, ctx): PageRequest => {
    const perPage = String(ctx.pageSize);
    if (base.query.cursor) return { url: base.url, query: { cursor: base.query.cursor, per_page: perPage } };
    return { url: base.url, query: { start_time: "0", per_page: perPage } };
  },
  next: (res) => {
    const json = res.json as { end_of_stream?: unknown; after_cursor?: unknown };
    if (json.end_of_stream === true) return null;
    if (typeof json.after_cursor !== "string" || json.after_cursor === "") {
      throw new PaginationError("the export says there is more (end_of_stream false) but sent no after_cursor");
    }
    return { cursor: json.after_cursor };
  },
  apply: (first, next) => ({ url: first.url, query: { cursor: String(next.cursor), per_page: first.query.per_page ?? "1000" } }),
};

/** Time-based incremental export (organizations have no cursor-based one): the next start is the page's `end_time`. */
const timeExport: PaginationStyle = {
  name: "zendesk_time_export",
  first: (base, ctx) => ({ url: base.url, query: { start_time: base.query.start_time ?? "0", per_page: String(ctx.pageSize) } }),
  next: (res) => {
    const json = res.json as { end_of_stream?: unknown; end_time?: unknown };
    if (json.end_of_stream === true) return null;
    if (typeof json.end_time !== "number") throw new PaginationError("the export says there is more but sent no end_time");
    return { start_time: json.end_time };
  },
  apply: (first, next) => ({ url: first.url, query: { start_time: String(next.start_time), per_page: first.query.per_page ?? "1000" } }),
};

/**
 * Tickets: deleted tickets stay in the export with `status: "deleted"` and land as deletes. The
 * version is `generated_timestamp` (it changes with every update), falling back to `updated_at`;
 * both are whole seconds, so the engine adds a digest of the record's bytes.
 */
export const zendeskTickets: PollStream = {
  name: "tickets",
  path: "/api/v2/incremental/tickets/cursor.json",
  records: "tickets",
  primaryKey: "id",
  cursor: { kind: "token", field: "after_cursor", param: "cursor", ascending: true },
  pagination: cursorExport,
  pageSize: 1000,
  intervalMinutes: 10,
  describe: (r) => ({
    op: r.field("status") === "deleted" ? "delete" : "upsert",
    version: r.field("generated_timestamp") ?? r.field("updated_at"),
  }),
};

/** Users: a deleted user stays in the export with `active: false` (read as a delete; unconfirmed for suspended agents). */
export const zendeskUsers: PollStream = {
  name: "users",
  path: "/api/v2/incremental/users/cursor.json",
  records: "users",
  primaryKey: "id",
  cursor: { kind: "token", field: "after_cursor", param: "cursor", ascending: true },
  pagination: cursorExport,
  pageSize: 1000,
  intervalMinutes: 30,
  describe: (r) => ({ op: r.field("active") === "false" ? "delete" : "upsert", version: r.field("updated_at") }),
};

/** Organizations: time-based export (repeats records at page edges; the version makes repeats one record). */
export const zendeskOrganizations: PollStream = {
  name: "organizations",
  path: "/api/v2/incremental/organizations.json",
  records: "organizations",
  primaryKey: "id",
  cursor: { kind: "token", field: "end_time", param: "start_time", ascending: true },
  pagination: timeExport,
  pageSize: 1000,
  intervalMinutes: 60,
  describe: (r) => ({ op: r.field("deleted_at") ? "delete" : "upsert", version: r.field("updated_at") }),
};

export const zendeskStreams: PollStream[] = [zendeskTickets, zendeskUsers, zendeskOrganizations];

/**
 * The time-based exports asked from a moment: `start_time` is epoch seconds, sent by the engine as
 * the ISO time it reconciles from (converted here; a number passes as is). Pages follow `end_time`.
 */
const exportFromTime: PaginationStyle = {
  name: "zendesk_time_export_from",
  first: (base, ctx) => ({ url: base.url, query: { start_time: epochSeconds(base.query.start_time), per_page: String(ctx.pageSize) } }),
  next: timeExport.next,
  apply: timeExport.apply,
};

function epochSeconds(value: string | undefined): string {
  if (value === undefined || /^\d+$/.test(value)) return value ?? "0";
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new PaginationError(`start_time ${value} is neither epoch seconds nor an ISO time`);
  return String(Math.max(0, Math.floor(ms / 1000)));
}

/** Listed in ascending modification order from a start time: what record-level reconciliation reads. */
const fromStartTime = { kind: "updated_at", field: "updated_at", param: "start_time", ascending: true, lookbackSeconds: 0 } as const;

/**
 * Objects changed since a time, for record-level reconciliation (src/sources/zendesk/reconcile.ts):
 * the time-based incremental exports (`GET /api/v2/incremental/{tickets,users,organizations}.json
 * ?start_time=<epoch s>`, ascending by modification, `end_time` / `end_of_stream`), filed under the
 * same stream names, keys and versions as the polled ones (same `describe`), so a record listed here
 * has the `_dock.id` its poll has. Not polled on a schedule: the cursor-based streams above do that.
 */
export const zendeskListings: PollStream[] = [zendeskTickets, zendeskUsers, zendeskOrganizations].map((s) => ({
  ...s,
  path: `/api/v2/incremental/${s.name}.json`,
  cursor: fromStartTime,
  pagination: exportFromTime,
}));
