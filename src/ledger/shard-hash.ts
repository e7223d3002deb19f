/**
 * Where a ledger row lives: FNV-1a (32-bit) of its key string, modulo the shard count. Cheap (no
 * crypto), stable across isolates and releases, and uniform enough for ids that are themselves
 * digests or vendor ids. Changing the count re-maps keys (see docs/ledger.md).
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function shardOf(key: string, shards: number): number {
  return fnv1a32(key) % shards;
}

/** The shard key of a dedupe row (the `_dock.id` or bundle key itself). */
export const dedupeShardKey = (id: string): string => id;
/** The shard key of a receipt: one vendor event of one source. */
export const receiptShardKey = (source: string, eventId: string): string => `${source}\n${eventId}`;
/** The shard key of a high-water mark: one object of one source's stream. */
export const markShardKey = (source: string, stream: string, key: string): string => `${source}\n${stream}\n${key}`;
