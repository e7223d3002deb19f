import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { type LedgerEnv, type RecordLedger, recordLedger } from "../../src/ledger";
import { dedupeId, type LedgerShard } from "../../src/ledger/ledger-shard";

/*
 * The per-record ledger as tests read it, whichever one the env configures (RECORD_LEDGER): the
 * D1 tables, or every shard's SQLite. Rows come back named as D1 names them, as far as the shards
 * keep them: a dedupe key's and a receipt's id is 16 bytes (hex) there, not the key or event id.
 */

export type LedgerKind = "d1" | "sharded";

/** The test env with the ledger of this kind (the sharded one over `shards` objects). */
export function ledgerEnv<E extends object>(kind: LedgerKind, base: E = env as unknown as E, shards = "16"): E & LedgerEnv {
  return { ...base, RECORD_LEDGER: kind, LEDGER_SHARDS: shards } as E & LedgerEnv;
}

export const ledgerOf = (e: LedgerEnv = env): RecordLedger => recordLedger(e);

/** Which of these dedupe keys the ledger holds. */
export async function heldKeys(ids: readonly string[], e: LedgerEnv = env): Promise<Set<string>> {
  return (await ledgerOf(e).read({ keys: ids, marks: [] })).seen;
}

function shardStubs(e: LedgerEnv): DurableObjectStub<LedgerShard>[] {
  const ns = e.LEDGER as DurableObjectNamespace<LedgerShard>;
  const count = Math.max(Number(e.LEDGER_SHARDS ?? "16"), Number(e.LEDGER_SHARDS_PREVIOUS ?? "0"));
  return Array.from({ length: count }, (_, i) => ns.get(ns.idFromName(`ledger-${i}`)));
}

const isSharded = (e: LedgerEnv) => ledgerOf(e).kind === "sharded";

type Table = "dedupe_keys" | "webhook_receipts" | "object_versions";

/** Every row of one ledger table, as D1 names its columns (sharded: from every shard). */
export async function ledgerRows(table: Table, e: LedgerEnv = env): Promise<Record<string, unknown>[]> {
  if (!isSharded(e)) return (await e.DB.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all()).results;
  const rows: Record<string, unknown>[] = [];
  for (const stub of shardStubs(e)) {
    rows.push(
      ...(await runInDurableObject(stub, (_, state) => {
        const sql = state.storage.sql;
        if (table === "webhook_receipts") {
          // The shards keep a receipt's id (16 bytes of its source and event id) and pattern, filed by day received.
          return numberedTables(sql, "receipts_").flatMap((t) =>
            sql
              .exec<{ id: string; pattern: SqlStorageValue }>(`SELECT lower(hex(id)) AS id, pattern FROM ${t}`)
              .toArray()
              .map((r) => ({ ...r, received_day: new Date(Number(t.slice("receipts_".length)) * 86_400_000).toISOString().slice(0, 10) })),
          );
        }
        if (table === "object_versions") {
          return sql.exec<Record<string, SqlStorageValue>>("SELECT source, stream, key, version_ms, version, pattern FROM marks").toArray();
        }
        return dedupeTables(sql).flatMap((t) => sql.exec<{ id: string }>(`SELECT lower(hex(id)) AS id FROM ${t}`).toArray());
      })),
    );
  }
  return rows.sort((a, b) => JSON.stringify(Object.values(a)).localeCompare(JSON.stringify(Object.values(b))));
}

function numberedTables(sql: SqlStorage, prefix: string): string[] {
  return sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?1) = ?2", prefix.length, prefix)
    .toArray()
    .map((r) => r.name);
}

const dedupeTables = (sql: SqlStorage) => numberedTables(sql, "keys_");

/** A crash before the ledger's write: these dedupe keys are forgotten, wherever they live. */
export async function forgetDedupeKeys(ids: readonly string[], e: LedgerEnv = env): Promise<void> {
  if (!isSharded(e)) {
    await e.DB.prepare("DELETE FROM dedupe_keys WHERE id IN (SELECT value FROM json_each(?1))").bind(JSON.stringify(ids)).run();
    return;
  }
  for (const stub of shardStubs(e)) {
    await runInDurableObject(stub, (_, state) => {
      for (const t of dedupeTables(state.storage.sql)) {
        state.storage.sql.exec(`DELETE FROM ${t} WHERE id IN (SELECT unhex(value) FROM json_each(?1))`, JSON.stringify(ids.map(dedupeId)));
      }
    });
  }
}

/** Forgets every dedupe key (a test that writes the same records twice on purpose). */
export async function forgetAllDedupeKeys(e: LedgerEnv = env): Promise<void> {
  if (!isSharded(e)) {
    await e.DB.prepare("DELETE FROM dedupe_keys").run();
    return;
  }
  for (const stub of shardStubs(e)) {
    await runInDurableObject(stub, (_, state) => {
      for (const t of dedupeTables(state.storage.sql)) state.storage.sql.exec(`DELETE FROM ${t}`);
    });
  }
}
