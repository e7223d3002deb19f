import { parseLsn } from "../../src/lsn";
import type { PgCluster } from "./pg-cluster";

/**
 * A second slot with test_decoding, used only to learn commit end LSNs independently of the
 * sidecar: its COMMIT rows carry txn->end_lsn.
 */
export async function createProbe(cluster: PgCluster, name = "probe"): Promise<void> {
  await cluster.sql("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [name]);
}

export async function commitEnds(cluster: PgCluster, name = "probe"): Promise<Map<number, bigint>> {
  const res = await cluster.sql("SELECT lsn::text AS lsn, xid::text AS xid, data FROM pg_logical_slot_peek_changes($1, NULL, NULL)", [
    name,
  ]);
  const out = new Map<number, bigint>();
  for (const row of res.rows as { lsn: string; xid: string; data: string }[]) {
    if (row.data.startsWith("COMMIT")) out.set(Number(row.xid), parseLsn(row.lsn));
  }
  return out;
}

export async function confirmedFlush(cluster: PgCluster, slot: string): Promise<bigint> {
  const res = await cluster.sql("SELECT confirmed_flush_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1", [slot]);
  return parseLsn((res.rows[0] as { l: string }).l);
}
