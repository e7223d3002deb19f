import { inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { RecordBundle } from "../envelope/bundle";
import { rawObjectKey, snapshotPartKey } from "../envelope/raw-keys";
import { chunk, database, rowsPerStatement } from "../db/client";
import { dedupeKeys, rawObjects, streamStats, webhookReceipts } from "../db/schema";
import { sha256Hex } from "../lib/crypto";
import { gzip } from "./gzip";

export interface WriterOptions {
  retentionHours: number;
  now?: Date;
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
}

interface Pending {
  bundle: RecordBundle;
  dedupeKey: string;
  record?: RecordBundle["records"][number];
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
  const db = database(env.DB);

  const pending: Pending[] = [];
  for (const bundle of bundles) {
    if (bundle.dedupe === "bundle" || bundle.snapshot) {
      pending.push({ bundle, dedupeKey: `bundle:${await bundleKey(bundle)}` });
    } else {
      for (const record of bundle.records) pending.push({ bundle, dedupeKey: record.id, record });
    }
  }

  const seen = await seenKeys(db, [...new Set(pending.map((p) => p.dedupeKey))]);
  const groups = new Map<string, { bundle: RecordBundle; lines: string[]; ids: string[]; receipts: Pending[] }>();
  const fresh: string[] = [];
  let duplicates = 0;
  for (const p of pending) {
    if (seen.has(p.dedupeKey)) {
      duplicates += p.record ? 1 : p.bundle.records.length;
      continue;
    }
    seen.add(p.dedupeKey);
    fresh.push(p.dedupeKey);
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
        customMetadata: { records: String(group.lines.length), source: b.source, stream: b.stream },
      });
      return { key, source: b.source, stream: b.stream, pattern: b.pattern, records: group.lines.length, bytes: body.byteLength };
    }),
  );

  await recordWrites(db, {
    dedupe: fresh,
    receipts: [...groups.values()].flatMap((g) => g.receipts),
    objects,
    bundles: groups,
    now,
    retentionHours: options.retentionHours,
  });
  const written = objects.reduce((n, o) => n + o.records, 0);
  return { objects, written, duplicates };
}

function partitionTime(receivedAt: string, fallback: Date): Date {
  const t = new Date(receivedAt);
  return Number.isNaN(t.getTime()) ? fallback : t;
}

async function bundleKey(bundle: RecordBundle): Promise<string> {
  const scope = bundle.snapshot ? `${bundle.snapshot.run_id}/${bundle.snapshot.part}\n` : "";
  return (await sha256Hex(scope + bundle.records.map((r) => r.id).join("\n"))).slice(0, 32);
}

async function seenKeys(db: ReturnType<typeof database>, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const queries = chunk(keys, rowsPerStatement(1)).map((ids) =>
    db.select({ id: dedupeKeys.id }).from(dedupeKeys).where(inArray(dedupeKeys.id, ids)),
  );
  const results = await db.batch(queries as [(typeof queries)[number], ...(typeof queries)[number][]]);
  return new Set(results.flat().map((r) => r.id));
}

async function recordWrites(
  db: ReturnType<typeof database>,
  w: {
    dedupe: string[];
    receipts: Pending[];
    objects: WrittenObject[];
    bundles: Map<string, { bundle: RecordBundle; lines: string[] }>;
    now: Date;
    retentionHours: number;
  },
): Promise<void> {
  const nowIso = w.now.toISOString();
  const expiresAt = new Date(w.now.getTime() + w.retentionHours * 3_600_000).toISOString();
  const statements: BatchItem<"sqlite">[] = [];
  for (const ids of chunk(w.dedupe, rowsPerStatement(2))) {
    statements.push(
      db
        .insert(dedupeKeys)
        .values(ids.map((id) => ({ id, expiresAt })))
        .onConflictDoNothing(),
    );
  }
  const receiptRows = w.receipts.map((p) => ({
    source: p.bundle.source,
    eventId: p.record?.receipt as string,
    dockId: p.record?.id as string,
    stream: p.bundle.stream,
    pattern: p.bundle.pattern,
    receivedAt: p.bundle.received_at,
  }));
  for (const rows of chunk(receiptRows, rowsPerStatement(6))) {
    statements.push(db.insert(webhookReceipts).values(rows).onConflictDoNothing());
  }
  for (const rows of chunk(w.objects, rowsPerStatement(7))) {
    statements.push(
      db
        .insert(rawObjects)
        .values(rows.map((o) => ({ ...o, writtenAt: nowIso })))
        .onConflictDoNothing(),
    );
  }
  for (const stat of streamTotals(w.objects, w.bundles)) {
    statements.push(
      db
        .insert(streamStats)
        .values({ ...stat, firstReceivedAt: stat.lastReceivedAt, lastWrittenAt: nowIso })
        .onConflictDoUpdate({
          target: [streamStats.source, streamStats.stream],
          set: {
            records: sql`${streamStats.records} + excluded.records`,
            objects: sql`${streamStats.objects} + excluded.objects`,
            bytes: sql`${streamStats.bytes} + excluded.bytes`,
            lastReceivedAt: sql`max(${streamStats.lastReceivedAt}, excluded.last_received_at)`,
            lastWrittenAt: sql`excluded.last_written_at`,
          },
        }),
    );
  }
  if (statements.length === 0) return;
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
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
