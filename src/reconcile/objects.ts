/*
 * The per-object high-water mark: which objects a source tracks and how a version's time is read.
 * The marks themselves live in the record ledger (src/ledger: object_versions in D1, or the
 * shards' marks), written by the raw writer and read by record-level reconciliation.
 */

import type { SourceDefinition } from "../sources/define-source";
import { isListing, isRecordListing } from "./types";

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

export const objectRefKey = (o: ObjectRef): string => `${o.stream}\n${o.key}`;

/** The tracked objects of every source with a record-level listing, for the raw writer. */
export function trackedObjectsFrom(sources: readonly SourceDefinition[]): TrackedObjectsOf {
  const bySource = new Map<string, TrackedObjects>();
  for (const s of sources) if (isRecordListing(s.reconcile)) bySource.set(s.name, s.reconcile.objects);
  return (source) => bySource.get(source);
}

/**
 * Which sources' webhook receipts the raw writer keeps: those reconciled event by event (their
 * listing is matched against receipts by event id), and sources it does not know (a receipt
 * costs bytes, a missing one a re-fetched event). Others count what arrived from raw_objects.
 */
export function receiptsKeptFrom(sources: readonly SourceDefinition[]): (source: string) => boolean {
  const known = new Map(sources.map((s) => [s.name, isListing(s.reconcile)] as const));
  return (source) => known.get(source) ?? true;
}
