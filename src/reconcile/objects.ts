/*
 * The per-object high-water mark (table object_versions): which objects a source tracks, how a
 * version's time is read, and the one query that answers "held at this version or newer?" for a
 * page of listed objects. Written by the raw writer; read by record-level reconciliation.
 */

import type { SourceDefinition } from "../sources/define-source";
import { isRecordListing } from "./types";

/** What the raw writer needs to keep a source's high-water marks. */
export interface TrackedObjects {
  /** The streams whose records are states (or changes) of one object each, keyed by the object's id. */
  streams: readonly string[];
  /**
   * The time (epoch ms) a record's `_dock.version` stands for, which orders versions of one object;
   * null when the version carries none (the record then leaves the mark as it is). Must read every
   * version the source writes to these streams: poll (`<vendor version>|<digest>`), webhook and
   * reconcile alike, so a webhook of a change and a poll of the state it made compare. `key` lets
   * a source leave out records that are not one object's (an event keyed by its own id): null.
   */
  versionTime(version: string, key: string): number | null;
}

export type TrackedObjectsOf = (source: string) => TrackedObjects | undefined;

/** A polled version's vendor part: `<vendor version>|<16 hex>` without the digest (see record-version.ts). */
export function vendorPart(version: string): string {
  return /\|[0-9a-f]{16}$/.test(version) ? version.slice(0, -17) : version;
}

/** The time of a polled version whose vendor part is an ISO-8601 time (updated_at cursors); null otherwise. */
export function isoVersionTime(version: string): number | null {
  const vendor = vendorPart(version);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(vendor)) return null;
  const ms = Date.parse(vendor);
  return Number.isFinite(ms) ? ms : null;
}

/** One object as a listing or the writer names it. */
export interface ObjectRef {
  stream: string;
  key: string;
}

export interface HeldVersion {
  versionMs: number;
  version: string;
  pattern: string;
}

export const objectRefKey = (o: ObjectRef): string => `${o.stream}\n${o.key}`;

/**
 * The newest version held of each object, in one statement whatever the number of objects: the
 * list travels as one JSON parameter (json_each), so D1's 100-bound-parameter limit never binds;
 * pages are still cut at `chunk` objects to keep each statement's JSON small.
 */
export async function heldVersions(
  d1: D1Database,
  source: string,
  objects: readonly ObjectRef[],
  chunk = 1000,
): Promise<Map<string, HeldVersion>> {
  const out = new Map<string, HeldVersion>();
  if (objects.length === 0) return out;
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < objects.length; i += chunk) statements.push(heldStatement(d1, source, objects.slice(i, i + chunk)));
  for (const result of await d1.batch<{ stream: string; key: string; version_ms: number; version: string; pattern: string }>(statements)) {
    for (const r of result.results) out.set(`${r.stream}\n${r.key}`, { versionMs: r.version_ms, version: r.version, pattern: r.pattern });
  }
  return out;
}

export function heldStatement(d1: D1Database, source: string, objects: readonly ObjectRef[]): D1PreparedStatement {
  return d1
    .prepare(
      `SELECT o.stream, o.key, o.version_ms, o.version, o.pattern
       FROM json_each(?2) AS j JOIN object_versions AS o
         ON o.source = ?1 AND o.stream = j.value->>0 AND o.key = j.value->>1`,
    )
    .bind(source, JSON.stringify(objects.map((o) => [o.stream, o.key])));
}

/** A row of the mark as the writer sends it: [source, stream, key, version_ms, version, pattern]. */
export type MarkRow = [string, string, string, number, string, string];

/** Raises each object's mark to the row's version when it is newer than the one held (one statement). */
export function raiseMarksStatement(d1: D1Database, rows: readonly MarkRow[], nowIso: string): D1PreparedStatement {
  return d1
    .prepare(
      `INSERT INTO object_versions (source, stream, key, version_ms, version, pattern, written_at)
       SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, ?2 FROM json_each(?1) WHERE true
       ON CONFLICT (source, stream, key) DO UPDATE SET
         version_ms = excluded.version_ms, version = excluded.version, pattern = excluded.pattern, written_at = excluded.written_at
       WHERE excluded.version_ms > object_versions.version_ms`,
    )
    .bind(JSON.stringify(rows), nowIso);
}

/** The tracked objects of every source with a record-level listing, for the raw writer. */
export function trackedObjectsFrom(sources: readonly SourceDefinition[]): TrackedObjectsOf {
  const bySource = new Map<string, TrackedObjects>();
  for (const s of sources) if (isRecordListing(s.reconcile)) bySource.set(s.name, s.reconcile.objects);
  return (source) => bySource.get(source);
}
