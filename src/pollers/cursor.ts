import { and, eq } from "drizzle-orm";
import { database } from "../db/client";
import { cursors } from "../db/schema";
import { valueAt } from "./json-path";
import type { CursorSpec, PageRequest } from "./types";

/** A cursor value as a comparable number: ms for times, the integer for numeric ids; null when not comparable. */
function comparable(spec: CursorSpec, value: string): number | bigint | null {
  if (spec.kind === "updated_at") {
    const ms = spec.format === "unix" ? Number(value) * 1000 : spec.format === "unix_ms" ? Number(value) : Date.parse(value);
    return Number.isFinite(ms) ? ms : null;
  }
  if (spec.kind === "id" && /^-?\d+$/.test(value)) return BigInt(value);
  return null;
}

/** The larger of two cursor values; a token cursor always takes the newer one. */
export function laterCursor(spec: CursorSpec, a: string | null, b: string | null | undefined): string | null {
  if (b === null || b === undefined) return a;
  if (a === null) return b;
  if (spec.kind === "token") return b;
  const ca = comparable(spec, a);
  const cb = comparable(spec, b);
  if (ca === null || cb === null) return spec.kind === "id" ? (b > a ? b : a) : a;
  return cb > ca ? b : a;
}

/** A time (ISO) as an `updated_at` cursor would store it, in the stream's format. */
export function cursorAtTime(spec: CursorSpec, iso: string): string {
  const ms = Date.parse(iso);
  if (spec.kind !== "updated_at" || !Number.isFinite(ms)) return iso;
  if (spec.format === "unix") return String(Math.floor(ms / 1000));
  if (spec.format === "unix_ms") return String(ms);
  return new Date(ms).toISOString();
}

/** The value the request carries: the stored cursor minus the lookback, in the vendor's format. */
export function cursorParamValue(spec: CursorSpec, stored: string): string {
  if (spec.kind !== "updated_at") return stored;
  const ms = comparable(spec, stored);
  if (typeof ms !== "number") return stored;
  const from = ms - (spec.lookbackSeconds ?? 300) * 1000;
  if (spec.format === "unix") return String(Math.floor(from / 1000));
  if (spec.format === "unix_ms") return String(from);
  return new Date(from).toISOString();
}

/** The request for a run: the stream's params plus, when a cursor is stored, the overlap. */
export function baseRequest(
  path: string,
  params: Record<string, string> | undefined,
  spec: CursorSpec | undefined,
  stored: string | null,
): PageRequest {
  const query = { ...(params ?? {}) };
  if (spec && stored !== null) query[spec.param] = cursorParamValue(spec, stored);
  return { url: path, query };
}

/** The highest cursor value on a page (updated_at/id), or the sync token in the body (token). */
export function pageCursor(spec: CursorSpec, values: (string | undefined)[], json: unknown): string | null {
  if (spec.kind === "token") {
    const token = valueAt(json, spec.field);
    return typeof token === "string" && token !== "" ? token : typeof token === "number" ? String(token) : null;
  }
  let max: string | null = null;
  for (const v of values) max = laterCursor(spec, max, v);
  return max;
}

export async function readCursor(d1: D1Database, source: string, stream: string): Promise<string | null> {
  const row = await database(d1)
    .select({ cursor: cursors.cursor })
    .from(cursors)
    .where(and(eq(cursors.source, source), eq(cursors.stream, stream)))
    .get();
  return row?.cursor ?? null;
}

/**
 * The admin's reset: sets a stream's cursor to `value` (null forgets it, so the next poll reads the
 * whole stream). Runs in progress started from the old cursor do not overwrite it: their cursor
 * write is conditional on the cursor they started from.
 */
export async function resetCursor(d1: D1Database, source: string, stream: string, value: string | null, now = new Date()): Promise<void> {
  const db = database(d1);
  if (value === null) {
    await db.delete(cursors).where(and(eq(cursors.source, source), eq(cursors.stream, stream)));
    return;
  }
  await db
    .insert(cursors)
    .values({ source, stream, cursor: value, runId: "admin-reset", updatedAt: now.toISOString() })
    .onConflictDoUpdate({
      target: [cursors.source, cursors.stream],
      set: { cursor: value, runId: "admin-reset", updatedAt: now.toISOString() },
    });
}
