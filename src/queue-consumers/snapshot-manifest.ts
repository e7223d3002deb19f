import type { SnapshotManifestMessage } from "../envelope/bundle";
import { snapshotManifestKey, snapshotPartKey } from "../envelope/raw-keys";
import { database } from "../db/client";
import { rawObjects } from "../db/schema";

export interface ManifestOutcome {
  written: boolean;
  /** Parts not (yet) in R2: the message is retried later. */
  missing: number[];
  rows?: number;
}

/**
 * Puts a snapshot's `_manifest.json`, but only once every part is in R2: the manifest is written
 * last, so a reader that finds it knows the snapshot is whole. Idempotent: an existing manifest is
 * left as it is. Row counts and checksums come from the parts' own metadata (written with them).
 */
export async function writeSnapshotManifest(
  env: { DB: D1Database; RAW: R2Bucket },
  m: SnapshotManifestMessage,
  now = new Date(),
): Promise<ManifestOutcome> {
  const key = snapshotManifestKey(m.source, m.stream, m.run_id);
  if (await env.RAW.head(key)) return { written: false, missing: [] };
  const heads = await Promise.all(
    Array.from({ length: m.parts }, async (_, part) => ({
      part,
      head: await env.RAW.head(snapshotPartKey(m.source, m.stream, m.run_id, part)),
    })),
  );
  const missing = heads.filter((h) => !h.head).map((h) => h.part);
  if (missing.length > 0) return { written: false, missing };
  const parts = heads.map(({ part, head }) => ({
    part,
    key: snapshotPartKey(m.source, m.stream, m.run_id, part),
    rows: Number(head?.customMetadata?.records ?? 0),
    bytes: head?.size ?? 0,
    sha256: head?.customMetadata?.sha256 ?? null,
    etag: head?.etag ?? null,
  }));
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const manifest = {
    source: m.source,
    stream: m.stream,
    run_id: m.run_id,
    complete: true,
    row_count: rows,
    rows_sent: m.records,
    part_count: parts.length,
    parts,
    created_at: now.toISOString(),
  };
  const body = JSON.stringify(manifest, null, 2);
  await env.RAW.put(key, body, { httpMetadata: { contentType: "application/json" }, customMetadata: { records: String(rows) } });
  await database(env.DB)
    .insert(rawObjects)
    .values({
      key,
      source: m.source,
      stream: m.stream,
      pattern: "full_refresh",
      records: rows,
      bytes: body.length,
      writtenAt: now.toISOString(),
    })
    .onConflictDoNothing();
  return { written: true, missing: [], rows };
}
