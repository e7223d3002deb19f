import { pruneDedupeKeys } from "../db/prune";
import {
  type HeldMark,
  type LedgerRead,
  type LedgerSeen,
  type LedgerStorage,
  type LedgerWrite,
  type MarkRow,
  newCounters,
  type RecordLedger,
} from "./record-ledger";

/*
 * The ledger in one D1 (tables dedupe_keys, webhook_receipts, object_versions of src/db/schema.ts):
 * lists travel as one JSON parameter read with json_each, so a batch is a handful of statements
 * however many records it holds, far from D1's limit of 100 bound parameters. Its write is one
 * db.batch with the writer's own statements, atomic as a whole.
 */
export function d1RecordLedger(env: { DB: D1Database }): RecordLedger {
  const d1 = env.DB;
  const counters = newCounters();
  const batch = async <T>(statements: D1PreparedStatement[], rows: number) => {
    counters.roundTrips++;
    counters.calls++;
    counters.rows += rows;
    return d1.batch<T>(statements);
  };

  return {
    kind: "d1",
    counters,

    async read({ keys, marks }: LedgerRead): Promise<LedgerSeen> {
      const seen = new Set<string>();
      const held = new Map<string, HeldMark>();
      const statements: D1PreparedStatement[] = [];
      if (keys.length > 0) {
        statements.push(d1.prepare("SELECT id FROM dedupe_keys WHERE id IN (SELECT value FROM json_each(?1))").bind(JSON.stringify(keys)));
      }
      const bySource = new Map<string, { stream: string; key: string }[]>();
      for (const m of marks) {
        let list = bySource.get(m.source);
        if (!list) {
          list = [];
          bySource.set(m.source, list);
        }
        list.push(m);
      }
      const sources = [...bySource.keys()];
      for (const source of sources) statements.push(heldStatement(d1, source, bySource.get(source) ?? []));
      if (statements.length === 0) return { seen, held, tokens: new Map() };
      const results = await batch(statements, keys.length + marks.length);
      const offset = keys.length > 0 ? 1 : 0;
      if (offset) for (const r of (results[0]?.results ?? []) as { id: string }[]) seen.add(r.id);
      sources.forEach((source, i) => {
        for (const r of (results[offset + i]?.results ?? []) as HeldRow[]) {
          held.set(`${source}\n${r.stream}\n${r.key}`, { versionMs: r.version_ms, version: r.version, pattern: r.pattern });
        }
      });
      return { seen, held, tokens: new Map() };
    },

    async write(w: LedgerWrite, alongside: D1PreparedStatement[] = []): Promise<void> {
      const statements: D1PreparedStatement[] = [];
      if (w.dedupe.length > 0) {
        statements.push(
          d1
            .prepare("INSERT OR IGNORE INTO dedupe_keys (id, expires_at) SELECT value, ?2 FROM json_each(?1)")
            .bind(JSON.stringify(w.dedupe.map(([key]) => key)), w.expiresAt.toISOString()),
        );
      }
      if (w.marks.length > 0) statements.push(raiseMarksStatement(d1, w.marks, w.now.toISOString()));
      if (w.receipts.length > 0) {
        const rows = w.receipts.map((r) => [r.source, r.eventId, r.dockId, r.stream, r.pattern, r.receivedAt]);
        statements.push(
          d1
            .prepare(
              `INSERT OR IGNORE INTO webhook_receipts (source, event_id, dock_id, stream, pattern, received_at)
               SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?1)`,
            )
            .bind(JSON.stringify(rows)),
        );
      }
      statements.push(...alongside);
      if (statements.length > 0) await batch(statements, w.dedupe.length + w.marks.length + w.receipts.length);
    },

    async receiptsOf(source, eventIds) {
      if (eventIds.length === 0) return new Map();
      const [result] = await batch<{ event_id: string; pattern: string }>(
        [
          d1
            .prepare("SELECT event_id, pattern FROM webhook_receipts WHERE source = ?1 AND event_id IN (SELECT value FROM json_each(?2))")
            .bind(source, JSON.stringify(eventIds)),
        ],
        eventIds.length,
      );
      return new Map((result?.results ?? []).map((r) => [r.event_id, r.pattern]));
    },

    async heldVersions(source, objects) {
      const out = new Map<string, HeldMark>();
      if (objects.length === 0) return out;
      const statements: D1PreparedStatement[] = [];
      // Pages of 1000 objects keep each statement's JSON small.
      for (let i = 0; i < objects.length; i += 1000) statements.push(heldStatement(d1, source, objects.slice(i, i + 1000)));
      for (const result of await batch<HeldRow>(statements, objects.length)) {
        for (const r of result.results)
          out.set(`${r.stream}\n${r.key}`, { versionMs: r.version_ms, version: r.version, pattern: r.pattern });
      }
      return out;
    },

    prune: (now = new Date()) => pruneDedupeKeys(d1, now),

    async storage(): Promise<LedgerStorage> {
      const [d, r, m] = await d1.batch<{ n: number }>([
        d1.prepare("SELECT count(*) AS n FROM dedupe_keys"),
        d1.prepare("SELECT count(*) AS n FROM webhook_receipts"),
        d1.prepare("SELECT count(*) AS n FROM object_versions"),
      ]);
      const rows = { dedupe: d?.results[0]?.n ?? 0, receipts: r?.results[0]?.n ?? 0, marks: m?.results[0]?.n ?? 0 };
      return { kind: "d1", bytes: d?.meta.size_after ?? 0, rows, shards: [] };
    },
  };
}

interface HeldRow {
  stream: string;
  key: string;
  version_ms: number;
  version: string;
  pattern: string;
}

function heldStatement(d1: D1Database, source: string, objects: readonly { stream: string; key: string }[]): D1PreparedStatement {
  return d1
    .prepare(
      `SELECT o.stream, o.key, o.version_ms, o.version, o.pattern
       FROM json_each(?2) AS j JOIN object_versions AS o
         ON o.source = ?1 AND o.stream = j.value->>0 AND o.key = j.value->>1`,
    )
    .bind(source, JSON.stringify(objects.map((o) => [o.stream, o.key])));
}

/** Raises each object's mark to the row's version when it is newer than the one held (one statement). */
function raiseMarksStatement(d1: D1Database, rows: readonly MarkRow[], nowIso: string): D1PreparedStatement {
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
