import type { RecordBundle } from "../envelope/bundle";
import { rawObjectKey, snapshotPartKey } from "../envelope/raw-keys";
import { lineKeyVersion } from "../envelope/line-identity";
import { sha256Hex } from "../lib/crypto";
import {
  heldStatement,
  type MarkRow,
  type ObjectRef,
  objectRefKey,
  raiseMarksStatement,
  type TrackedObjectsOf,
} from "../reconcile/objects";
import { gzip } from "./gzip";

export interface WriterOptions {
  retentionHours: number;
  now?: Date;
  /** Sources whose object streams keep a high-water mark (object_versions); none when absent. */
  tracked?: TrackedObjectsOf;
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
  marks: Mark[];
}

interface Mark extends ObjectRef {
  version: string;
  ms: number;
}

/**
 * The raw writer: bundles in, one gzip'd JSON-lines object per stream (and hour) out.
 * Two D1 round trips per batch: one read of the dedupe keys, one write batch after R2 holds the
 * objects. An object's key derives from the ids it holds, so a retried batch rewrites the same key
 * with the same bytes; a crash between R2 and D1 leaves nothing half-done.
 */
export async function writeBundles(
  env: { DB: D1Database; RAW: R2Bucket },
  bundles: readonly RecordBundle[],
  options: WriterOptions,
): Promise<WriteSummary> {
  const now = options.now ?? new Date();

  const pending: Pending[] = [];
  for (const bundle of bundles) {
    if (bundle.dedupe === "bundle" || bundle.snapshot) {
      pending.push({ bundle, dedupeKey: `bundle:${await bundleKey(bundle)}`, marks: marksOf(bundle, bundle.records, options.tracked) });
    } else {
      for (const record of bundle.records) {
        pending.push({ bundle, dedupeKey: record.id, record, marks: marksOf(bundle, [record], options.tracked) });
      }
    }
  }

  // A webhook of a tracked object may be covered by what reconciliation recovered: its mark is read with the dedupe keys.
  const webhookObjects = pending.filter((p) => p.bundle.pattern === "webhook" && p.marks.length > 0);
  const { seen, held } = await readBefore(env.DB, [...new Set(pending.map((p) => p.dedupeKey))], webhookObjects);
  const groups = new Map<string, { bundle: RecordBundle; lines: string[]; ids: string[]; receipts: Pending[] }>();
  const fresh: string[] = [];
  const marks: MarkRow[] = [];
  let duplicates = 0;
  let covered = 0;
  for (const p of pending) {
    if (seen.has(p.dedupeKey)) {
      duplicates += p.record ? 1 : p.bundle.records.length;
      continue;
    }
    if (p.bundle.pattern === "webhook" && p.marks.length > 0 && p.marks.every((m) => isCovered(held, p.bundle.source, m))) {
      duplicates += p.record ? 1 : p.bundle.records.length;
      covered += p.record ? 1 : p.bundle.records.length;
      continue;
    }
    seen.add(p.dedupeKey);
    fresh.push(p.dedupeKey);
    for (const m of p.marks) marks.push([p.bundle.source, m.stream, m.key, m.ms, m.version, p.bundle.pattern]);
    const b = p.bundle;
    const groupKey = b.snapshot
      ? `${b.source}\n${b.stream}\nsnapshot\n${b.snapshot.run_id}\n${b.snapshot.part}`
      : `${b.source}\n${b.stream}\n${b.pattern}\n${b.received_at.slice(0, 13)}`;
    let group = groups.get(groupKey);
    if (!group) {
      group = { bundle: b, lines: [], ids: [], receipts: [] };
      groups.set(groupKey, group);
    }
    const records = p.record ? [p.record] : b.records;
    for (const r of records) {
      group.lines.push(r.line);
      group.ids.push(r.id);
    }
    if (p.record?.receipt) group.receipts.push(p);
  }

  const objects = await Promise.all(
    [...groups.values()].map(async (group): Promise<WrittenObject> => {
      const b = group.bundle;
      const key = b.snapshot
        ? snapshotPartKey(b.source, b.stream, b.snapshot.run_id, b.snapshot.part)
        : rawObjectKey({
            source: b.source,
            stream: b.stream,
            pattern: b.pattern,
            at: partitionTime(b.received_at, now),
            batchId: (await sha256Hex(group.ids.join("\n"))).slice(0, 24),
          });
      const body = await gzip(`${group.lines.join("\n")}\n`);
      await env.RAW.put(key, body, {
        httpMetadata: { contentType: "application/gzip" },
        customMetadata: {
          records: String(group.lines.length),
          source: b.source,
          stream: b.stream,
          // Snapshot manifests list each part's checksum.
          ...(b.snapshot ? { sha256: await sha256Hex(body) } : {}),
        },
      });
      return { key, source: b.source, stream: b.stream, pattern: b.pattern, records: group.lines.length, bytes: body.byteLength };
    }),
  );

  await recordWrites(env.DB, {
    dedupe: fresh,
    marks,
    receipts: [...groups.values()].flatMap((g) => g.receipts),
    objects,
    bundles: groups,
    now,
    retentionHours: options.retentionHours,
  });
  const written = objects.reduce((n, o) => n + o.records, 0);
  return { objects, written, duplicates, covered };
}

/** The high-water-mark rows a bundle's records make: tracked streams only, versions with a time only. */
function marksOf(bundle: RecordBundle, records: RecordBundle["records"], tracked: TrackedObjectsOf | undefined): Mark[] {
  const spec = tracked?.(bundle.source);
  if (!spec?.streams.includes(bundle.stream)) return [];
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

function partitionTime(receivedAt: string, fallback: Date): Date {
  const t = new Date(receivedAt);
  return Number.isNaN(t.getTime()) ? fallback : t;
}

async function bundleKey(bundle: RecordBundle): Promise<string> {
  const scope = bundle.snapshot ? `${bundle.snapshot.run_id}/${bundle.snapshot.part}\n` : "";
  return (await sha256Hex(scope + bundle.records.map((r) => r.id).join("\n"))).slice(0, 32);
}

/*
 * The hot path speaks SQL to D1 directly: lists travel as one JSON parameter read with json_each,
 * so a batch is a handful of statements however many records it holds, far from D1's limit of 100
 * bound parameters. The tables are the drizzle ones in src/db/schema.ts (a test checks the columns).
 */
async function readBefore(
  d1: D1Database,
  keys: string[],
  webhookObjects: Pending[],
): Promise<{ seen: Set<string>; held: Map<string, { versionMs: number; pattern: string }> }> {
  const statements: D1PreparedStatement[] = [];
  if (keys.length > 0) {
    statements.push(d1.prepare("SELECT id FROM dedupe_keys WHERE id IN (SELECT value FROM json_each(?1))").bind(JSON.stringify(keys)));
  }
  const bySource = new Map<string, ObjectRef[]>();
  for (const p of webhookObjects) bySource.set(p.bundle.source, [...(bySource.get(p.bundle.source) ?? []), ...p.marks]);
  const sources = [...bySource.keys()];
  for (const source of sources) statements.push(heldStatement(d1, source, bySource.get(source) as ObjectRef[]));
  const seen = new Set<string>();
  const held = new Map<string, { versionMs: number; pattern: string }>();
  if (statements.length === 0) return { seen, held };
  const results = await d1.batch(statements);
  const offset = keys.length > 0 ? 1 : 0;
  if (offset) for (const r of (results[0]?.results ?? []) as { id: string }[]) seen.add(r.id);
  sources.forEach((source, i) => {
    for (const r of (results[offset + i]?.results ?? []) as { stream: string; key: string; version_ms: number; pattern: string }[]) {
      held.set(`${source}\n${r.stream}\n${r.key}`, { versionMs: r.version_ms, pattern: r.pattern });
    }
  });
  return { seen, held };
}

async function recordWrites(
  d1: D1Database,
  w: {
    dedupe: string[];
    marks: MarkRow[];
    receipts: Pending[];
    objects: WrittenObject[];
    bundles: Map<string, { bundle: RecordBundle; lines: string[] }>;
    now: Date;
    retentionHours: number;
  },
): Promise<void> {
  const nowIso = w.now.toISOString();
  const expiresAt = new Date(w.now.getTime() + w.retentionHours * 3_600_000).toISOString();
  const statements: D1PreparedStatement[] = [];
  if (w.dedupe.length > 0) {
    statements.push(
      d1
        .prepare("INSERT OR IGNORE INTO dedupe_keys (id, expires_at) SELECT value, ?2 FROM json_each(?1)")
        .bind(JSON.stringify(w.dedupe), expiresAt),
    );
  }
  if (w.marks.length > 0) statements.push(raiseMarksStatement(d1, w.marks, nowIso));
  if (w.receipts.length > 0) {
    const rows = w.receipts.map((p) => [
      p.bundle.source,
      p.record?.receipt,
      p.record?.id,
      p.bundle.stream,
      p.bundle.pattern,
      p.bundle.received_at,
    ]);
    statements.push(
      d1
        .prepare(
          `INSERT OR IGNORE INTO webhook_receipts (source, event_id, dock_id, stream, pattern, received_at)
           SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?1)`,
        )
        .bind(JSON.stringify(rows)),
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
  for (const t of streamTotals(w.objects, w.bundles)) {
    statements.push(
      d1
        .prepare(
          `INSERT INTO stream_stats (source, stream, records, objects, bytes, first_received_at, last_received_at, last_written_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
           ON CONFLICT (source, stream) DO UPDATE SET
             records = records + excluded.records,
             objects = objects + excluded.objects,
             bytes = bytes + excluded.bytes,
             last_received_at = max(last_received_at, excluded.last_received_at),
             last_written_at = excluded.last_written_at`,
        )
        .bind(t.source, t.stream, t.records, t.objects, t.bytes, t.lastReceivedAt, nowIso),
    );
  }
  if (statements.length > 0) await d1.batch(statements);
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
