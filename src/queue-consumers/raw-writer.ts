import type { RecordBundle } from "../envelope/bundle";
import { rawObjectKey, snapshotPartKey } from "../envelope/raw-keys";
import { lineKeyVersion } from "../envelope/line-identity";
import { sha256HexNative } from "../lib/crypto";
import { type DedupeRow, type LedgerEnv, type MarkRow, type RecordLedger, type ReceiptRow, recordLedger } from "../ledger";
import { type ObjectRef, objectRefKey, type TrackedObjectsOf } from "../reconcile/objects";
import { gzip } from "./gzip";

export interface WriterOptions {
  retentionHours: number;
  now?: Date;
  /** Sources whose object streams keep a high-water mark (object_versions); none when absent. */
  tracked?: TrackedObjectsOf;
  /** The per-record ledger; `recordLedger(env)` when absent. */
  ledger?: RecordLedger;
  /**
   * Whether a source's receipts are kept: only an event-level reconcile reads them (by event id).
   * Every receipt is kept when absent.
   */
  keepsReceipts?: (source: string) => boolean;
}

export interface WrittenObject {
  key: string;
  source: string;
  stream: string;
  pattern: string;
  records: number;
  bytes: number;
}

export interface WriteSummary {
  objects: WrittenObject[];
  written: number;
  duplicates: number;
  /** Of the duplicates: late webhooks of objects reconciliation had already recovered at their version or newer. */
  covered: number;
}

interface Pending {
  bundle: RecordBundle;
  dedupeKey: string;
  record?: RecordBundle["records"][number];
  /** The objects its records are versions of (tracked streams only), with each version's time. */
  marks: readonly Mark[];
}

interface Mark extends ObjectRef {
  version: string;
  ms: number;
}

/**
 * The raw writer: bundles in, one gzip'd JSON-lines object per stream (and hour) out.
 * Two ledger round trips per batch (src/ledger: per shard, shards in parallel): one read of the
 * dedupe keys and marks, one write after R2 holds the objects, beside D1's raw_objects and
 * stream_stats. An object's key derives from the ids it holds, so a retried batch rewrites the same
 * key with the same bytes; a crash between R2 and the ledger leaves nothing half-done (a sharded
 * write that reached only some shards: see `reclaimRetried`).
 */
export async function writeBundles(
  env: LedgerEnv & { RAW: R2Bucket },
  bundles: readonly RecordBundle[],
  options: WriterOptions,
): Promise<WriteSummary> {
  const now = options.now ?? new Date();

  const pending: Pending[] = [];
  for (const bundle of bundles) {
    if (bundle.dedupe === "bundle" || bundle.snapshot) {
      pending.push({ bundle, dedupeKey: `bundle:${bundleKey(bundle)}`, marks: marksOf(bundle, bundle.records, options.tracked) });
    } else {
      for (const record of bundle.records) {
        pending.push({ bundle, dedupeKey: record.id, record, marks: marksOf(bundle, [record], options.tracked) });
      }
    }
  }

  // A webhook of a tracked object may be covered by what reconciliation recovered: its mark is read with the dedupe keys.
  const webhookObjects = pending.filter((p) => p.bundle.pattern === "webhook" && p.marks.length > 0);
  const ledger = options.ledger ?? recordLedger(env);
  const { seen, held, tokens } = await ledger.read({
    keys: [...new Set(pending.map((p) => p.dedupeKey))],
    marks: webhookObjects.flatMap((p) => p.marks.map((m) => ({ source: p.bundle.source, stream: m.stream, key: m.key }))),
  });
  if (tokens.size > 0) reclaimRetried(pending, seen, tokens, held, now);
  const groups = new Map<string, { bundle: RecordBundle; lines: string[]; ids: string[]; receipts: Pending[]; keys: string[] }>();
  const marks: MarkRow[] = [];
  let duplicates = 0;
  let covered = 0;
  // A bundle's records share its group: looked up once per bundle, not once per record.
  let lastBundle: RecordBundle | undefined;
  let group: { bundle: RecordBundle; lines: string[]; ids: string[]; receipts: Pending[]; keys: string[] } | undefined;
  for (const p of pending) {
    if (seen.has(p.dedupeKey)) {
      duplicates += p.record ? 1 : p.bundle.records.length;
      continue;
    }
    if (isCoveredWebhook(held, p)) {
      duplicates += p.record ? 1 : p.bundle.records.length;
      covered += p.record ? 1 : p.bundle.records.length;
      continue;
    }
    seen.add(p.dedupeKey);
    for (const m of p.marks) marks.push([p.bundle.source, m.stream, m.key, m.ms, m.version, p.bundle.pattern]);
    const b = p.bundle;
    if (b !== lastBundle || !group) {
      const groupKey = groupKeyOf(b);
      group = groups.get(groupKey);
      if (!group) {
        group = { bundle: b, lines: [], ids: [], receipts: [], keys: [] };
        groups.set(groupKey, group);
      }
      lastBundle = b;
    }
    group.keys.push(p.dedupeKey);
    if (p.record) {
      group.lines.push(p.record.line);
      group.ids.push(p.record.id);
    } else {
      for (const r of b.records) {
        group.lines.push(r.line);
        group.ids.push(r.id);
      }
    }
    if (p.record?.receipt && (options.keepsReceipts?.(b.source) ?? true)) group.receipts.push(p);
  }

  const objects = await Promise.all(
    [...groups.values()].map(async (group): Promise<WrittenObject> => {
      const b = group.bundle;
      const key = objectKeyOf(b, group.ids, now);
      const body = await gzip(`${group.lines.join("\n")}\n`);
      await env.RAW.put(key, body, {
        httpMetadata: { contentType: "application/gzip" },
        customMetadata: {
          records: String(group.lines.length),
          source: b.source,
          stream: b.stream,
          // Snapshot manifests list each part's checksum.
          ...(b.snapshot ? { sha256: sha256HexNative(body) } : {}),
        },
      });
      return { key, source: b.source, stream: b.stream, pattern: b.pattern, records: group.lines.length, bytes: body.byteLength };
    }),
  );

  await ledger.write(
    {
      dedupe: dedupeRows(ledger, [...groups.values()], objects),
      expiresAt: new Date(now.getTime() + options.retentionHours * 3_600_000),
      marks,
      receipts: [...groups.values()].flatMap((g) => g.receipts.map(receiptRow)),
      now,
    },
    objectStatements(env.DB, { objects, bundles: groups, now }),
  );
  const written = objects.reduce((n, o) => n + o.records, 0);
  return { objects, written, duplicates, covered };
}

/** The marks of a record of an untracked stream: none, one shared empty list rather than one per record. */
const NO_MARKS: readonly Mark[] = Object.freeze([]);

/** The high-water-mark rows a bundle's records make: tracked streams only, versions with a time only. */
function marksOf(bundle: RecordBundle, records: RecordBundle["records"], tracked: TrackedObjectsOf | undefined): readonly Mark[] {
  const spec = tracked?.(bundle.source);
  if (!spec?.streams.includes(bundle.stream)) return NO_MARKS;
  const out: Mark[] = [];
  for (const r of records) {
    const identity = lineKeyVersion(r.line);
    if (!identity) continue;
    const ms = spec.versionTime(identity.version, identity.key);
    if (ms !== null && Number.isFinite(ms))
      out.push({ stream: bundle.stream, key: identity.key, version: identity.version, ms: Math.trunc(ms) });
  }
  return out;
}

/**
 * A late webhook is covered when reconciliation already wrote its object at the version the webhook
 * describes or a newer one: the state it announces is held, so it lands nothing new (as a late
 * webhook of an event-level source is dropped by the reconciled record's dedupe key). Only marks
 * set by `reconcile` cover: beside polls, webhooks land as they always did.
 */
function isCovered(held: Map<string, { versionMs: number; pattern: string }>, source: string, m: Mark): boolean {
  const h = held.get(`${source}\n${objectRefKey(m)}`);
  return h !== undefined && h.pattern === "reconcile" && h.versionMs >= m.ms;
}

function isCoveredWebhook(held: Map<string, { versionMs: number; pattern: string }>, p: Pending): boolean {
  return p.bundle.pattern === "webhook" && p.marks.length > 0 && p.marks.every((m) => isCovered(held, p.bundle.source, m));
}

/** Records of one source, stream and pattern received in one hour (or one snapshot part) share an object. */
function groupKeyOf(b: RecordBundle): string {
  return b.snapshot
    ? `${b.source}\n${b.stream}\nsnapshot\n${b.snapshot.run_id}\n${b.snapshot.part}`
    : `${b.source}\n${b.stream}\n${b.pattern}\n${b.received_at.slice(0, 13)}`;
}

/** An object's R2 key: named by a digest of the ids it holds (a snapshot part: by its place). */
function objectKeyOf(b: RecordBundle, ids: readonly string[], now: Date): string {
  return b.snapshot
    ? snapshotPartKey(b.source, b.stream, b.snapshot.run_id, b.snapshot.part)
    : rawObjectKey({
        source: b.source,
        stream: b.stream,
        pattern: b.pattern,
        at: partitionTime(b.received_at, now),
        batchId: sha256HexNative(ids.join("\n")).slice(0, 24),
      });
}

/** 48 bits of the digest of an object's key: the token its dedupe rows carry. */
function objectToken(key: string): number {
  return Number.parseInt(sha256HexNative(key).slice(0, 12), 16);
}

/** The dedupe keys of each object (groups and objects in the same order) with its object's token; the D1 ledger, atomic, needs none. */
function dedupeRows(ledger: RecordLedger, groups: readonly { keys: string[] }[], objects: readonly WrittenObject[]): DedupeRow[] {
  const rows: DedupeRow[] = [];
  groups.forEach((g, i) => {
    const token = ledger.kind === "d1" ? 0 : objectToken(objects[i]?.key ?? "");
    for (const k of g.keys) rows.push([k, token]);
  });
  return rows;
}

/**
 * A sharded write is not atomic: a batch whose first attempt put its objects in R2 but reached only
 * some shards finds some of its keys seen, under the token of the object it wrote. For each object
 * and each token its seen keys carry, the keys that make up an object of that very key (the unseen
 * ones and those seen under it: same ids, same source, stream, pattern and hour) are taken back, so
 * the retry writes the same object again instead of a second object holding the rest. Keys seen
 * under another token (another object: another batch, hour or pattern) stay seen.
 */
function reclaimRetried(
  pending: readonly Pending[],
  seen: Set<string>,
  tokens: ReadonlyMap<string, number>,
  held: Map<string, { versionMs: number; pattern: string }>,
  now: Date,
): void {
  const byGroup = new Map<string, Pending[]>();
  for (const p of pending) {
    const k = groupKeyOf(p.bundle);
    let members = byGroup.get(k);
    if (!members) {
      members = [];
      byGroup.set(k, members);
    }
    members.push(p);
  }
  for (const members of byGroup.values()) {
    const candidates = new Set<number>();
    for (const p of members) {
      const t = tokens.get(p.dedupeKey);
      if (t !== undefined) candidates.add(t);
    }
    for (const token of candidates) {
      const taken = new Set<string>();
      const ids: string[] = [];
      let first: RecordBundle | undefined;
      for (const p of members) {
        if (taken.has(p.dedupeKey) || (seen.has(p.dedupeKey) && tokens.get(p.dedupeKey) !== token) || isCoveredWebhook(held, p)) continue;
        taken.add(p.dedupeKey);
        first ??= p.bundle;
        for (const r of p.record ? [p.record] : p.bundle.records) ids.push(r.id);
      }
      if (first && objectToken(objectKeyOf(first, ids, now)) === token) {
        for (const k of taken) seen.delete(k);
        break;
      }
    }
  }
}

function partitionTime(receivedAt: string, fallback: Date): Date {
  const t = new Date(receivedAt);
  return Number.isNaN(t.getTime()) ? fallback : t;
}

function bundleKey(bundle: RecordBundle): string {
  const scope = bundle.snapshot ? `${bundle.snapshot.run_id}/${bundle.snapshot.part}\n` : "";
  return sha256HexNative(scope + bundle.records.map((r) => r.id).join("\n")).slice(0, 32);
}

function receiptRow(p: Pending): ReceiptRow {
  return {
    source: p.bundle.source,
    eventId: p.record?.receipt ?? "",
    dockId: p.record?.id ?? "",
    stream: p.bundle.stream,
    pattern: p.bundle.pattern,
    receivedAt: p.bundle.received_at,
  };
}

/*
 * D1's part of the write: the objects and the streams' totals, as statements the ledger sends in
 * its own round trip (the D1 ledger in its batch, the sharded one beside its shard calls). Lists
 * travel as one JSON parameter read with json_each, far from D1's limit of 100 bound parameters.
 */
function objectStatements(
  d1: D1Database,
  w: { objects: WrittenObject[]; bundles: Map<string, { bundle: RecordBundle; lines: string[] }>; now: Date },
): D1PreparedStatement[] {
  const nowIso = w.now.toISOString();
  const statements: D1PreparedStatement[] = [];
  // A stream's totals count its objects once: not again when a retry finds them written (a sharded
  // ledger write can fail after D1's went through), so they run before the objects' own insert.
  for (const t of streamTotals(w.objects, w.bundles)) {
    const keys = w.objects.filter((o) => o.source === t.source && o.stream === t.stream).map((o) => o.key);
    statements.push(
      d1
        .prepare(
          `INSERT INTO stream_stats (source, stream, records, objects, bytes, first_received_at, last_received_at, last_written_at)
           SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7 WHERE NOT EXISTS (SELECT 1 FROM raw_objects WHERE key IN (SELECT value FROM json_each(?8)))
           ON CONFLICT (source, stream) DO UPDATE SET
             records = records + excluded.records,
             objects = objects + excluded.objects,
             bytes = bytes + excluded.bytes,
             last_received_at = max(last_received_at, excluded.last_received_at),
             last_written_at = excluded.last_written_at`,
        )
        .bind(t.source, t.stream, t.records, t.objects, t.bytes, t.lastReceivedAt, nowIso, JSON.stringify(keys)),
    );
  }
  if (w.objects.length > 0) {
    const rows = w.objects.map((o) => [o.key, o.source, o.stream, o.pattern, o.records, o.bytes]);
    statements.push(
      d1
        .prepare(
          `INSERT OR IGNORE INTO raw_objects (key, source, stream, pattern, records, bytes, written_at)
           SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, ?2 FROM json_each(?1)`,
        )
        .bind(JSON.stringify(rows), nowIso),
    );
  }
  return statements;
}
function streamTotals(
  objects: WrittenObject[],
  groups: Map<string, { bundle: RecordBundle; lines: string[] }>,
): { source: string; stream: string; records: number; objects: number; bytes: number; lastReceivedAt: string }[] {
  const lastReceived = new Map<string, string>();
  for (const g of groups.values()) {
    const k = `${g.bundle.source}\n${g.bundle.stream}`;
    const prev = lastReceived.get(k);
    if (!prev || g.bundle.received_at > prev) lastReceived.set(k, g.bundle.received_at);
  }
  const totals = new Map<
    string,
    { source: string; stream: string; records: number; objects: number; bytes: number; lastReceivedAt: string }
  >();
  for (const o of objects) {
    const k = `${o.source}\n${o.stream}`;
    const t = totals.get(k) ?? {
      source: o.source,
      stream: o.stream,
      records: 0,
      objects: 0,
      bytes: 0,
      lastReceivedAt: lastReceived.get(k) ?? "",
    };
    t.records += o.records;
    t.objects += 1;
    t.bytes += o.bytes;
    totals.set(k, t);
  }
  return [...totals.values()];
}
