import type pg from "pg";
import { parseLsn } from "../lsn";
import { quoteIdent } from "./sql-quote";

export interface SlotState {
  exists: boolean;
  plugin: string | null;
  active: boolean;
  activePid: number | null;
  confirmedFlushLsn: bigint | null;
  restartLsn: bigint | null;
  walStatus: string | null;
  safeWalSize: number | null;
  lagBytes: number | null;
}

export class SlotInvalidated extends Error {
  override name = "SlotInvalidated";
  constructor(slot: string, detail: string) {
    super(
      `replication slot "${slot}" is invalidated (${detail}): Postgres removed WAL the slot still needed, so changes were lost ` +
        `and streaming cannot resume. Recovery: drop the slot (SELECT pg_drop_replication_slot('${slot}')), delete the sidecar's ` +
        "state file, and start the sidecar again: it creates a new slot and re-snapshots the tables (see sidecar/README.md).",
    );
  }
}

/**
 * The session let go of its replication connection because nothing could be delivered for too
 * long. While the socket is paused, Postgres cannot end the walsender: a checkpoint that must
 * invalidate the slot, `pg_terminate_backend` and a fast shutdown all wait on it. Letting go keeps
 * them working; the next session resumes from the slot's confirmed position.
 */
export class ReplicationReleased extends Error {
  override name = "ReplicationReleased";
  constructor(pausedMs: number) {
    super(
      `no delivery was accepted for ${Math.round(pausedMs / 1000)} s with the replication socket paused; ` +
        "released the replication connection so Postgres can manage the slot, and will reconnect",
    );
  }
}

/** Creates the publication if it does not exist; an existing publication is left as the operator made it. */
export async function ensurePublication(db: pg.Client, publication: string, tables: string[]): Promise<boolean> {
  const found = await db.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [publication]);
  if (found.rowCount) return false;
  const target =
    tables.length === 0
      ? "FOR ALL TABLES"
      : `FOR TABLE ${tables
          .map((t) => {
            const [schema, table] = t.includes(".") ? [t.slice(0, t.indexOf(".")), t.slice(t.indexOf(".") + 1)] : ["public", t];
            return `${quoteIdent(schema)}.${quoteIdent(table)}`;
          })
          .join(", ")}`;
  await db.query(`CREATE PUBLICATION ${quoteIdent(publication)} ${target}`);
  return true;
}

export async function slotState(db: pg.Client, slot: string): Promise<SlotState> {
  const res = await db.query(
    `SELECT plugin, active, active_pid, confirmed_flush_lsn::text AS confirmed, restart_lsn::text AS restart,
            wal_status, safe_wal_size::text AS safe,
            (pg_current_wal_lsn() - COALESCE(confirmed_flush_lsn, restart_lsn))::text AS lag
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = res.rows[0] as Record<string, string | boolean | number | null> | undefined;
  if (!row)
    return {
      exists: false,
      plugin: null,
      active: false,
      activePid: null,
      confirmedFlushLsn: null,
      restartLsn: null,
      walStatus: null,
      safeWalSize: null,
      lagBytes: null,
    };
  return {
    exists: true,
    plugin: row.plugin as string,
    active: row.active === true,
    activePid: row.active_pid === null ? null : Number(row.active_pid),
    confirmedFlushLsn: row.confirmed ? parseLsn(row.confirmed as string) : null,
    restartLsn: row.restart ? parseLsn(row.restart as string) : null,
    walStatus: (row.wal_status as string | null) ?? null,
    safeWalSize: row.safe === null ? null : Number(row.safe),
    lagBytes: row.lag === null ? null : Number(row.lag),
  };
}

/** The primary-key columns of the table with OID `relationId`, in key order; empty when it has none (or is gone). */
export async function primaryKeyOf(db: pg.Client, relationId: number): Promise<string[]> {
  const res = await db.query(
    `SELECT a.attname::text AS col
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary
      ORDER BY k.ord`,
    [relationId],
  );
  return (res.rows as { col: string }[]).map((r) => r.col);
}
