import { spawnSync } from "node:child_process";
import path from "node:path";
import type { PgCluster } from "../../sidecar/test/helpers/pg-cluster";

const BIN = "/usr/lib/postgresql/15/bin";
const TX_ROWS = 1000;
export const CDC_CHANGES = 1_000_000;
export const CDC_PUBLICATION = "bench_pub";

/**
 * The CDC benchmarks' workload: table `bench` in publication `bench_pub`, the given slots created
 * first, then 1,000,000 changes (700k inserts, 200k updates, 100k deletes) in 1,000-row
 * transactions. Returns the WAL position after the last one and how long making them took.
 */
export async function makeCdcWorkload(cluster: PgCluster, slots: string[]): Promise<{ endLsn: string; ms: number }> {
  await cluster.sql("CREATE TABLE bench (id bigint PRIMARY KEY, v text, n int, at timestamptz DEFAULT now())");
  await cluster.sql(`CREATE PUBLICATION ${CDC_PUBLICATION} FOR TABLE bench`);
  for (const slot of slots) await cluster.sql("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  const db = await cluster.client();
  const t0 = Date.now();
  const range = (tx: number, from = 0) => [from + tx * TX_ROWS + 1, from + (tx + 1) * TX_ROWS];
  for (let tx = 0; tx < 700; tx++)
    await db.query("INSERT INTO bench (id, v, n) SELECT g, md5(g::text), g FROM generate_series($1::bigint, $2::bigint) g", range(tx));
  for (let tx = 0; tx < 200; tx++) await db.query("UPDATE bench SET v = v || 'u', n = n + 1 WHERE id BETWEEN $1 AND $2", range(tx));
  for (let tx = 0; tx < 100; tx++) await db.query("DELETE FROM bench WHERE id BETWEEN $1 AND $2", range(tx, 600_000));
  const endLsn = (await db.query("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l as string;
  await db.end();
  return { endLsn, ms: Date.now() - t0 };
}

/** The baseline: pg_recvlogical draining `slot` with pgoutput to /dev/null up to `endLsn`; returns milliseconds. */
export function pgRecvlogical(cluster: PgCluster, slot: string, endLsn: string): number {
  const started = Date.now();
  const args = ["-h", "127.0.0.1", "-p", String(cluster.port), "-U", "postgres", "-d", "postgres", "--slot", slot, "--start"];
  args.push("-o", "proto_version=1", "-o", `publication_names=${CDC_PUBLICATION}`, "-f", "/dev/null", "-E", endLsn, "--no-loop");
  const run = spawnSync("runuser", ["-u", "postgres", "--", path.join(BIN, "pg_recvlogical"), ...args], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`pg_recvlogical failed: ${run.stderr}`);
  return Date.now() - started;
}

/** The sidecar's environment in the benchmarks: the cluster, the slot made above, no snapshot, no extras. */
export function benchSidecarEnv(cluster: PgCluster, workerUrl: string, secret: string, stateFile: string): Record<string, string> {
  return {
    ...cluster.env,
    WORKER_URL: workerUrl,
    CDC_INGEST_SECRET: secret,
    CDC_SOURCE: "app_db",
    CDC_SLOT: "dock",
    CDC_PUBLICATION,
    CDC_SNAPSHOT: "false",
    CDC_HEALTH_PORT: "0",
    CDC_HEARTBEAT_MS: "0",
    CDC_STATE_FILE: stateFile,
  };
}
