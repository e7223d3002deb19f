import { lt, sql } from "drizzle-orm";
import { database } from "./client";
import { dedupeKeys } from "./schema";

/**
 * Deletes dedupe keys whose retention has passed, in slices so one run never holds D1 for long.
 * Returns how many were removed.
 */
export async function pruneDedupeKeys(d1: D1Database, now = new Date(), slice = 5_000, maxSlices = 50): Promise<number> {
  const db = database(d1);
  const cutoff = now.toISOString();
  let removed = 0;
  for (let i = 0; i < maxSlices; i++) {
    const result = await db.run(
      sql`DELETE FROM ${dedupeKeys} WHERE rowid IN (SELECT rowid FROM ${dedupeKeys} WHERE ${lt(dedupeKeys.expiresAt, cutoff)} LIMIT ${slice})`,
    );
    const changes = result.meta.changes ?? 0;
    removed += changes;
    if (changes < slice) break;
  }
  return removed;
}
