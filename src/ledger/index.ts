import { d1RecordLedger } from "./d1-ledger";
import type { LedgerEnv, RecordLedger } from "./record-ledger";
import { shardedRecordLedger } from "./sharded-ledger";

export { d1RecordLedger } from "./d1-ledger";
export type * from "./record-ledger";
export { shardedRecordLedger } from "./sharded-ledger";

const DAY_MS = 86_400_000;

/**
 * The ledger `RECORD_LEDGER` names: "sharded" (the default; Durable Objects `LEDGER`, `LEDGER_SHARDS`
 * of them) or "d1". An env without the `LEDGER` binding and without a choice (a Worker built before
 * the ledger, a benchmark's) uses D1; asking for "sharded" without the binding is an error.
 */
export function recordLedger(env: LedgerEnv): RecordLedger {
  // Made per call, not cached per isolate: a stub that threw (its object reset) must not be reused.
  const kind = env.RECORD_LEDGER ?? (env.LEDGER ? "sharded" : "d1");
  if (kind === "d1") return d1RecordLedger(env);
  if (kind !== "sharded") throw new Error(`RECORD_LEDGER must be "sharded" or "d1", not ${JSON.stringify(kind)}`);
  if (!env.LEDGER) throw new Error("RECORD_LEDGER is sharded but the LEDGER Durable Object binding is missing (wrangler.toml)");
  const shards = positiveInt("LEDGER_SHARDS", env.LEDGER_SHARDS ?? "32");
  const previousShards = env.LEDGER_SHARDS_PREVIOUS ? positiveInt("LEDGER_SHARDS_PREVIOUS", env.LEDGER_SHARDS_PREVIOUS) : undefined;
  const keep = {
    receiptsMs: positiveInt("RECEIPT_RETENTION_DAYS", env.RECEIPT_RETENTION_DAYS ?? "35") * DAY_MS,
    marksMs: positiveInt("MARK_RETENTION_DAYS", env.MARK_RETENTION_DAYS ?? "400") * DAY_MS,
  };
  return shardedRecordLedger({ DB: env.DB, LEDGER: env.LEDGER }, { shards, previousShards, keep });
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, not ${JSON.stringify(value)}`);
  return n;
}
