import { log } from "../lib/log";
import type { FilesEnv } from "./env";
import { queueStep } from "./land";
import type { LedgerRow } from "./ledger";

/**
 * Files whose parse has not moved for `minutes` (a continuation lost after its step committed, or
 * a step that went to the JOBS dead-letter queue) get their current step queued again. A step that
 * was only slow and runs twice is harmless: the second loses the ledger's compare-and-set and its
 * bundles are dropped by the raw writer's dedupe. Meant for the scheduler's tick.
 */
export async function requeueStalledFiles(env: FilesEnv, minutes = 30, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - minutes * 60_000).toISOString();
  const { results } = await env.DB.prepare(
    "SELECT * FROM file_ledger WHERE status = 'parsing' AND updated_at < ? ORDER BY updated_at LIMIT 100",
  )
    .bind(cutoff)
    .all<LedgerRow>();
  for (const row of results) {
    await queueStep(env, row.key, row.parse_offset);
    await env.DB.prepare("UPDATE file_ledger SET updated_at = ?2 WHERE key = ?1").bind(row.key, now.toISOString()).run();
    log("warn", {
      event: "file.requeued",
      source: row.source,
      stream: row.stream,
      pattern: "file",
      run_id: row.run_id,
      offset: row.parse_offset,
    });
  }
  return results.length;
}
