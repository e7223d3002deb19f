import type { LedgerShard, ShardRead, ShardSeen, ShardWrite } from "./ledger-shard";
import {
  type HeldMark,
  type LedgerRead,
  type LedgerSeen,
  type LedgerStorage,
  type LedgerWrite,
  newCounters,
  type RecordLedger,
} from "./record-ledger";
import { dedupeShardKey, markShardKey, receiptShardKey, shardOf } from "./shard-hash";

/** Tries of one shard call before the batch fails (and is retried whole by its queue). */
const SHARD_ATTEMPTS = 3;
/** The first retry pauses up to 2 × this (ms), the second up to 4 ×. */
const RETRY_BASE_MS = 10;

export interface ShardedOptions {
  shards: number;
  /** The count before the last change: reads ask the shard a key had under it as well. */
  previousShards?: number;
  /** How long receipts and marks are kept. */
  keep: { receiptsMs: number; marksMs: number };
}

/*
 * The ledger over `LedgerShard` Durable Objects named `ledger-<i>`: each row goes to the shard of a
 * hash of its key, each call sends one RPC to every shard it touches, all at once. A batch's write
 * is not atomic across shards (nor with D1): each dedupe key carries its object's token so a retry
 * of a half-written batch rewrites the same object (see raw-writer.ts).
 */
export function shardedRecordLedger(env: { DB: D1Database; LEDGER: DurableObjectNamespace<LedgerShard> }, o: ShardedOptions): RecordLedger {
  const counters = newCounters();
  const stubs = new Map<number, DurableObjectStub<LedgerShard>>();
  const stub = (i: number) => {
    let s = stubs.get(i);
    if (!s) {
      s = env.LEDGER.get(env.LEDGER.idFromName(`ledger-${i}`));
      stubs.set(i, s);
    }
    return s;
  };
  /** The shards a key is read from: its own, and its shard under the previous count while that may hold it. */
  const readShards = (key: string): number[] => {
    const now = shardOf(key, o.shards);
    if (!o.previousShards || o.previousShards === o.shards) return [now];
    const before = shardOf(key, o.previousShards);
    return before === now ? [now] : [now, before];
  };
  const allShards = () => Array.from({ length: Math.max(o.shards, o.previousShards ?? 0) }, (_, i) => i);
  /**
   * One shard's call, tried up to SHARD_ATTEMPTS times with a fresh stub and a short full-jitter
   * pause: every shard method is idempotent (reads; inserts that ignore a repeat; marks that only
   * rise), so a call that failed, or timed out after its write, can simply run again. A batch
   * touches up to `shards` objects, and without this one transient error among them would fail
   * and redo the whole batch. An object that says it is overloaded is not asked again at once.
   */
  const callShard = async <T, R>(i: number, part: T, call: (shard: DurableObjectStub<LedgerShard>, part: T) => Promise<R>): Promise<R> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(stub(i), part);
      } catch (err) {
        stubs.delete(i);
        if (attempt >= SHARD_ATTEMPTS || (err as { overloaded?: unknown } | null)?.overloaded === true) throw err;
        counters.calls++;
        await new Promise((r) => setTimeout(r, Math.random() * RETRY_BASE_MS * 2 ** attempt));
      }
    }
  };
  /** One wave of calls, one per shard, in parallel. */
  const wave = async <T, R>(parts: Map<number, T>, call: (shard: DurableObjectStub<LedgerShard>, part: T) => Promise<R>, rows: number) => {
    counters.roundTrips++;
    counters.calls += parts.size;
    counters.rows += rows;
    return Promise.all([...parts].map(async ([i, part]) => [i, await callShard(i, part, call)] as const));
  };

  return {
    kind: "sharded",
    counters,

    async read({ keys, marks }: LedgerRead): Promise<LedgerSeen> {
      const parts = new Map<number, ShardRead>();
      const part = (i: number) => {
        let p = parts.get(i);
        if (!p) {
          p = { keys: [], marks: [] };
          parts.set(i, p);
        }
        return p;
      };
      for (const k of keys) for (const i of readShards(dedupeShardKey(k))) part(i).keys.push(k);
      for (const m of marks)
        for (const i of readShards(markShardKey(m.source, m.stream, m.key))) part(i).marks.push([m.source, m.stream, m.key]);
      const seen = new Set<string>();
      const tokens = new Map<string, number>();
      const held = new Map<string, HeldMark>();
      if (parts.size === 0) return { seen, held, tokens };
      // RPC results lose their tuple types on the way: they are the shard's own.
      for (const [, r] of (await wave(parts, (s, p) => s.read(p), keys.length + marks.length)) as unknown as [number, ShardSeen][]) {
        for (const [key, token] of r.seen) {
          seen.add(key);
          tokens.set(key, token);
        }
        for (const [source, stream, key, versionMs, version, pattern] of r.held) {
          const id = `${source}\n${stream}\n${key}`;
          const prev = held.get(id);
          if (!prev || versionMs > prev.versionMs) held.set(id, { versionMs, version, pattern });
        }
      }
      return { seen, held, tokens };
    },

    async write(w: LedgerWrite, alongside: D1PreparedStatement[] = []): Promise<void> {
      const nowMs = w.now.getTime();
      const parts = new Map<number, ShardWrite>();
      const part = (i: number) => {
        let p = parts.get(i);
        if (!p) {
          p = { dedupe: [], expiresMs: w.expiresAt.getTime(), marks: [], receipts: [], nowMs, keep: o.keep };
          parts.set(i, p);
        }
        return p;
      };
      for (const d of w.dedupe) part(shardOf(dedupeShardKey(d[0]), o.shards)).dedupe.push(d);
      for (const m of w.marks) part(shardOf(markShardKey(m[0], m[1], m[2]), o.shards)).marks.push(m);
      for (const r of w.receipts) {
        part(shardOf(receiptShardKey(r.source, r.eventId), o.shards)).receipts.push([
          r.source,
          r.eventId,
          r.pattern,
          Date.parse(r.receivedAt),
        ]);
      }
      const d1 = alongside.length > 0 ? env.DB.batch(alongside) : undefined;
      if (d1) counters.calls++;
      await Promise.all([wave(parts, (s, p) => s.write(p), w.dedupe.length + w.marks.length + w.receipts.length), d1]);
    },

    async receiptsOf(source, eventIds) {
      const parts = new Map<number, string[]>();
      for (const id of eventIds) {
        for (const i of readShards(receiptShardKey(source, id))) {
          let p = parts.get(i);
          if (!p) {
            p = [];
            parts.set(i, p);
          }
          p.push(id);
        }
      }
      const out = new Map<string, string>();
      if (parts.size === 0) return out;
      for (const [, rows] of (await wave(parts, (s, ids) => s.receiptsOf(source, ids), eventIds.length)) as unknown as [
        number,
        [string, string][],
      ][]) {
        for (const [id, pattern] of rows) out.set(id, pattern);
      }
      return out;
    },

    async heldVersions(source, objects) {
      const seen = await this.read({ keys: [], marks: objects.map((x) => ({ source, stream: x.stream, key: x.key })) });
      const out = new Map<string, HeldMark>();
      for (const [id, h] of seen.held) out.set(id.slice(source.length + 1), h);
      return out;
    },

    async prune(now = new Date()) {
      const parts = new Map(allShards().map((i) => [i, now.getTime()] as const));
      let rows = 0;
      for (const [, r] of await wave(parts, (s, ms) => s.expire(ms), 0)) rows += r.rows;
      return rows;
    },

    async storage(): Promise<LedgerStorage> {
      const parts = new Map(allShards().map((i) => [i, null] as const));
      const shards = (await wave(parts, (s) => s.size(), 0)).map(([shard, size]) => ({ shard, ...size }));
      const sum = (f: (s: (typeof shards)[number]) => number) => shards.reduce((n, s) => n + f(s), 0);
      return {
        kind: "sharded",
        bytes: sum((s) => s.bytes),
        rows: { dedupe: sum((s) => s.dedupe), receipts: sum((s) => s.receipts), marks: sum((s) => s.marks) },
        shards,
      };
    },
  };
}
