import type { BundleRecord } from "../envelope/bundle";
import { lineKeyVersion } from "../envelope/line-identity";
import { enqueueRecords } from "../ingest/enqueue";
import type { Clock } from "../pollers/clock";
import type { HttpContext } from "../pollers/http";
import type { RoutedRecord } from "../pollers/page-records";
import { cursorAtTime } from "../pollers/cursor";
import { planPages, readPage } from "../pollers/read-page";
import type { NextPage } from "../pollers/types";
import type { SourceDefinition } from "../sources/define-source";
import { recordLedger } from "../ledger";
import { readSteppedListing } from "./record-steps";
import type { ReconcileEnv } from "./run-reconcile";
import type { SeenEvent } from "./store";
import type { ReconcileWindow, RecordListing } from "./types";

/** Where a record-level run is: which of the spec's listings, and the poll engine's next page in it. Kept as JSON in the run's state. */
interface ListingPosition {
  l: number;
  p: Exclude<NextPage, null> | null;
  /** A stepped stream's state after its last step (absent before its first). */
  s?: unknown;
}

export type ObjectsPage =
  | { kind: "page"; seen: SeenEvent[]; counts: { held: number; reconcile: number; missing: number }; next: string | null }
  | { kind: "deferred"; delayMs: number }
  | { kind: "failed"; error: string };

/**
 * One page of a record-level listing: read through the poll engine exactly as a poll of that
 * stream reads it (same request, pagination, records, key and version, so the same `_dock.id`),
 * with the envelopes marked `reconcile`. Each object whose version falls in the window is looked up
 * in the high-water mark (one query for the page): held at that version's time or later → held;
 * otherwise its envelope goes to INGEST. Resolves only once INGEST accepted every one.
 */
export async function reconcileObjectsPage(p: {
  env: ReconcileEnv;
  source: SourceDefinition;
  spec: RecordListing;
  runId: string;
  window: ReconcileWindow;
  next: string | null;
  http: HttpContext;
  clock: Clock;
  pageNumber: number;
}): Promise<ObjectsPage> {
  const { env, source, spec, window } = p;
  const at: ListingPosition = p.next ? (JSON.parse(p.next) as ListingPosition) : { l: 0, p: null };
  const stream = spec.listings[at.l];
  if (!stream) return { kind: "failed", error: `listing ${at.l} does not exist (the spec changed during the run)` };
  if (stream.steps) {
    const step = await readSteppedListing({
      env,
      source,
      stream: { ...stream, steps: stream.steps },
      state: at.s,
      from: window.from,
      http: p.http,
      clock: p.clock,
      runId: p.runId,
      pageNumber: p.pageNumber,
    });
    if (step.kind !== "page") return step;
    return classifyListed({
      ...p,
      at,
      read: step,
      ascending: stream.steps.ascending === true,
      moreInListing: step.next ? { l: at.l, p: null, s: step.next.state } : null,
    });
  }
  // A stream filtered by modification time is asked from the window's start whatever its order
  // (what changed before it is not the window's); only an ascending one can stop at the window's end.
  const filtered = stream.cursor?.kind === "updated_at" ? cursorAtTime(stream.cursor, window.from) : null;
  const ascending = filtered !== null && stream.cursor?.kind === "updated_at" && stream.cursor.ascending === true;
  const setup = planPages(env, source, stream, "poll", filtered, () => p.http.gate);
  if ("error" in setup) return { kind: "failed", error: setup.error };
  p.http.baseUrl = setup.value.baseUrl;
  const read = await readPage({
    http: p.http,
    plan: setup.value,
    source,
    stream,
    pattern: "poll",
    envelopePattern: "reconcile",
    runId: p.runId,
    clock: p.clock,
    ...(at.p ? { next: at.p } : {}),
    pageNumber: p.pageNumber,
  });
  if (read.kind !== "page") return read;
  if ("error" in read.next) return { kind: "failed", error: read.next.error };
  return classifyListed({
    ...p,
    at,
    read,
    ascending,
    moreInListing: read.next.page === null ? null : { l: at.l, p: read.next.page },
  });
}

/**
 * The listed records of one page, each looked up in the high-water mark (one query for the page):
 * held at that version's time or later → held; otherwise its envelope goes to INGEST.
 */
async function classifyListed(p: {
  env: ReconcileEnv;
  source: SourceDefinition;
  spec: RecordListing;
  runId: string;
  window: ReconcileWindow;
  at: ListingPosition;
  read: { position: string; routed: RoutedRecord[]; receivedAt: string };
  ascending: boolean;
  moreInListing: ListingPosition | null;
}): Promise<ObjectsPage> {
  const { env, source, spec, window, at, read, ascending } = p;
  const fromMs = Date.parse(window.from);
  const toMs = Date.parse(window.to);
  let pastEnd = false;
  const listed = new Map<string, { stream: string; key: string; ms: number; record: BundleRecord }>();
  for (const r of read.routed) {
    const identity = lineKeyVersion(r.record.line);
    const ms = identity ? spec.objects.versionTime(identity.version, identity.key) : null;
    if (!identity || ms === null || !Number.isFinite(ms)) {
      return {
        kind: "failed",
        error: `${read.position}: a listed ${r.stream} record has a version without a time (${identity?.version.slice(0, 60)})`,
      };
    }
    if (!spec.objects.streams.includes(r.stream)) {
      return {
        kind: "failed",
        error: `${read.position}: listed records are filed under ${r.stream}, which is not a tracked object stream`,
      };
    }
    if (ms > toMs) {
      // Ascending by modification time: everything after this is newer than the window.
      if (ascending) pastEnd = true;
      continue;
    }
    if (ms < fromMs) continue;
    listed.set(`${r.stream}/${identity.key}@${ms}`, { stream: r.stream, key: identity.key, ms, record: r.record });
  }

  const held = await recordLedger(env).heldVersions(source.name, [...listed.values()]);
  const counts = { held: 0, reconcile: 0, missing: 0 };
  const seen: SeenEvent[] = [];
  const toSend = new Map<string, BundleRecord[]>();
  for (const [id, o] of listed) {
    const h = held.get(`${o.stream}\n${o.key}`);
    const occurredAt = new Date(o.ms).toISOString();
    if (h && h.versionMs >= o.ms) {
      // What reconciliation itself recovered stays counted as recovered when a later run lists it again.
      const outcome = h.pattern === "reconcile" ? "reconcile" : "held";
      counts[outcome]++;
      seen.push({ eventId: id, occurredAt, outcome });
      continue;
    }
    toSend.set(o.stream, [...(toSend.get(o.stream) ?? []), o.record]);
    counts.reconcile++;
    seen.push({ eventId: id, occurredAt, outcome: "reconcile" });
  }
  for (const [name, records] of toSend) {
    await enqueueRecords(
      env,
      { source: source.name, stream: name, pattern: "reconcile", received_at: read.receivedAt, run_id: p.runId },
      records,
    );
  }

  const position: ListingPosition | null =
    !pastEnd && p.moreInListing ? p.moreInListing : at.l + 1 < spec.listings.length ? { l: at.l + 1, p: null } : null;
  return { kind: "page", seen, counts, next: position ? JSON.stringify(position) : null };
}
