/*
 * The per-record ledger: dedupe keys, webhook receipts and the per-object high-water marks. Two
 * implementations answer the same calls: one D1 (d1-ledger.ts, the tables of src/db/schema.ts) and
 * SQLite-backed Durable Objects sharded by a hash of each row's key (sharded-ledger.ts). D1 keeps
 * what is small and relational (raw_objects, stream_stats, cursors, runs, reconcile ledger days).
 * `RECORD_LEDGER` picks: "sharded" (default) or "d1". See docs/ledger.md.
 */

import type { LedgerShard } from "./ledger-shard";

/** One object as a mark names it. */
export interface MarkRef {
  source: string;
  stream: string;
  key: string;
}

export interface HeldMark {
  versionMs: number;
  version: string;
  pattern: string;
}

/** A row of the mark as the writer sends it: [source, stream, key, version_ms, version, pattern]. */
export type MarkRow = [string, string, string, number, string, string];

/**
 * A webhook receipt: one vendor event of a source that reached the raw zone, looked up by event id
 * (event-level reconciliation). The shards keep its pattern only; D1 keeps every field.
 */
export interface ReceiptRow {
  source: string;
  eventId: string;
  dockId: string;
  stream: string;
  pattern: string;
  receivedAt: string;
}

/**
 * A dedupe key and the token of the raw object it was written in (48 bits of that object's id
 * digest). A retried batch whose first attempt reached only some shards finds its own keys under
 * its own object's token and writes that object again, byte for byte, instead of skipping them.
 */
export type DedupeRow = [key: string, token: number];

export interface LedgerRead {
  keys: readonly string[];
  marks: readonly MarkRef[];
}

export interface LedgerSeen {
  seen: Set<string>;
  /** Marks held, by `source\nstream\nkey`. */
  held: Map<string, HeldMark>;
  /** The object token of each seen key, where the ledger keeps one (sharded); empty for D1 (its write is atomic). */
  tokens: Map<string, number>;
}

export interface LedgerWrite {
  dedupe: readonly DedupeRow[];
  /** When the dedupe keys may go (now + DEDUPE_RETENTION_HOURS). */
  expiresAt: Date;
  marks: readonly MarkRow[];
  receipts: readonly ReceiptRow[];
  now: Date;
}

/** Work done, for benchmarks and tests: round trips (waves of calls), calls (D1 batches or shard RPCs), rows sent. */
export interface LedgerCounters {
  roundTrips: number;
  calls: number;
  rows: number;
}

export interface LedgerStorage {
  kind: "d1" | "sharded";
  /** Bytes the ledger's rows take: D1's database size (it holds more than the ledger), or the sum of the shards'. */
  bytes: number;
  rows: { dedupe: number; receipts: number; marks: number };
  shards: { shard: number; bytes: number; dedupe: number; receipts: number; marks: number }[];
}

export interface RecordLedger {
  readonly kind: "d1" | "sharded";
  readonly counters: LedgerCounters;
  /** A batch's dedupe keys and held marks: one round trip (per shard, shards in parallel). */
  read(query: LedgerRead): Promise<LedgerSeen>;
  /**
   * A batch's dedupe keys, marks (raised only) and receipts, after R2 holds the objects: one round
   * trip. `alongside` are D1 statements of the same batch (raw_objects, stream_stats): the D1 ledger
   * runs them in its own batch, the sharded one sends them to D1 beside its shard calls.
   */
  write(rows: LedgerWrite, alongside?: D1PreparedStatement[]): Promise<void>;
  /** How each of these events of a source reached the raw zone so far: its receipt's pattern. */
  receiptsOf(source: string, eventIds: readonly string[]): Promise<Map<string, string>>;
  /** The newest version held of each object of a source, by `stream\nkey`. */
  heldVersions(source: string, objects: readonly { stream: string; key: string }[]): Promise<Map<string, HeldMark>>;
  /** Removes what has passed its horizon; returns the rows (D1) or rows and dropped keys (shards) removed. */
  prune(now?: Date): Promise<number>;
  storage(): Promise<LedgerStorage>;
}

export interface LedgerEnv {
  DB: D1Database;
  LEDGER?: DurableObjectNamespace<LedgerShard>;
  RECORD_LEDGER?: string;
  LEDGER_SHARDS?: string;
  /** The shard count before the last change, read as well while keys written under it are within the horizon. */
  LEDGER_SHARDS_PREVIOUS?: string;
  /** How long the shards keep webhook receipts (days): at least as far back as an event-level reconcile window may reach. */
  RECEIPT_RETENTION_DAYS?: string;
  /** How long the shards keep a mark not raised since (days): at least as far back as a record-level window may reach. */
  MARK_RETENTION_DAYS?: string;
}

export const newCounters = (): LedgerCounters => ({ roundTrips: 0, calls: 0, rows: 0 });
