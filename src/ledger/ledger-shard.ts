import { DurableObject } from "cloudflare:workers";
import { sha256HexNative } from "../lib/crypto";

/*
 * One shard of the record ledger: a SQLite-backed Durable Object holding the dedupe keys, receipts
 * and marks whose keys hash to it. Each method is one RPC and runs its SQL synchronously, so a
 * call's work is atomic for the object. Its bytes are what bounds the ledger (docs/capacity.md), so
 * rows are kept small: WITHOUT ROWID, no secondary index, integer times, and 16-byte ids:
 *
 * - dedupe keys live in one table per 8-hour expiry bucket (`keys_<bucket>`: id, token); a bucket
 *   whose end has passed is dropped whole, so expiry needs no index and no per-row delete. A key is
 *   kept from its write until between its expiry and 8 hours after. Its id is the key's own 16
 *   bytes where the key is a digest (`_dock.id`, `bundle:<digest>`), else 16 bytes of its SHA-256.
 * - receipts live in one table per UTC day received (`receipts_<day>`: 16 bytes of the SHA-256 of
 *   source and event id, pattern), dropped whole once the retention the writer last sent has passed;
 *   an event received again on a later day is read as its first receipt.
 * - marks (source, stream, key → version_ms, version, pattern, written_ms) go once they are older
 *   than their retention, swept by the alarm (and by `expire`).
 *
 * The shard's clock is its writers' (the `now` each write sends), carried forward by the wall clock
 * between writes: the same in production, and a test that writes at a fixed past time is not
 * expired by an alarm reading today's date.
 */

const BUCKET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;
/** How often an idle shard wakes to sweep: its next bucket end, or a day at most. */
const SWEEP_MS = 24 * 3_600_000;

export interface ShardRead {
  keys: string[];
  /** [source, stream, key] */
  marks: [string, string, string][];
}

export interface ShardSeen {
  /** [key, token] */
  seen: [string, number][];
  /** [source, stream, key, version_ms, version, pattern] */
  held: [string, string, string, number, string, string][];
}

export interface ShardWrite {
  /** [key, token] */
  dedupe: [string, number][];
  expiresMs: number;
  /** [source, stream, key, version_ms, version, pattern] */
  marks: [string, string, string, number, string, string][];
  /** [source, event_id, pattern, received_ms] */
  receipts: [string, string, string, number][];
  nowMs: number;
  /** How long receipts are kept (by received time) and marks (by their last raise). */
  keep: { receiptsMs: number; marksMs: number };
}

export interface ShardSize {
  bytes: number;
  dedupe: number;
  receipts: number;
  marks: number;
}

export class LedgerShard extends DurableObject {
  private readonly sql: SqlStorage;
  /** Live dedupe buckets, ascending. */
  private buckets: number[];
  /** Receipt tables by UTC day number, ascending. */
  private days: number[];
  private alarmAt: number | null | undefined;
  /** Writers' time minus the wall clock, as of the last write (persisted when it moves by a minute). */
  private offset: number;
  /** How long receipts and marks are kept, as the last write said (null: never told). */
  private keepReceiptsMs: number | null;
  private keepMarksMs: number | null;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS marks (source TEXT NOT NULL, stream TEXT NOT NULL, key TEXT NOT NULL, version_ms INTEGER NOT NULL,
         version TEXT NOT NULL, pattern TEXT NOT NULL, written_ms INTEGER NOT NULL, PRIMARY KEY (source, stream, key)) WITHOUT ROWID`,
    );
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID");
    this.buckets = this.tablesNumbered("keys_");
    this.days = this.tablesNumbered("receipts_");
    this.offset = this.getMeta("clock_offset") ?? 0;
    this.keepReceiptsMs = this.getMeta("keep_receipts_ms");
    this.keepMarksMs = this.getMeta("keep_marks_ms");
  }

  read(q: ShardRead): ShardSeen {
    const seen: [string, number][] = [];
    if (q.keys.length > 0 && this.buckets.length > 0) {
      const byId = new Map(q.keys.map((k) => [dedupeId(k), k]));
      const ids = JSON.stringify([...byId.keys()]);
      for (const b of this.buckets) {
        for (const r of this.sql.exec<{ id: string; token: number }>(
          `SELECT lower(hex(id)) AS id, token FROM keys_${b} WHERE id IN (SELECT unhex(value) FROM json_each(?1))`,
          ids,
        )) {
          const key = byId.get(r.id);
          if (key !== undefined) seen.push([key, r.token]);
        }
      }
    }
    return { seen, held: this.heldOf(q.marks) };
  }

  async write(w: ShardWrite): Promise<{ dedupe: number; marks: number; receipts: number }> {
    const offset = w.nowMs - Date.now();
    if (Math.abs(offset - this.offset) > 60_000) this.setMeta("clock_offset", offset);
    this.offset = offset;
    this.dropBucketsEndedBy(w.nowMs);
    let dedupe = 0;
    if (w.dedupe.length > 0) {
      const bucket = Math.floor(w.expiresMs / BUCKET_MS);
      if (!this.buckets.includes(bucket)) {
        this.sql.exec(`CREATE TABLE IF NOT EXISTS keys_${bucket} (id BLOB PRIMARY KEY, token INTEGER NOT NULL) WITHOUT ROWID`);
        this.buckets = [...this.buckets, bucket].sort((a, b) => a - b);
      }
      dedupe = this.sql.exec(
        `INSERT OR IGNORE INTO keys_${bucket} (id, token) SELECT unhex(value->>0), value->>1 FROM json_each(?1)`,
        JSON.stringify(w.dedupe.map(([key, token]) => [dedupeId(key), token])),
      ).rowsWritten;
    }
    let marks = 0;
    if (w.marks.length > 0) {
      marks = this.sql.exec(
        `INSERT INTO marks (source, stream, key, version_ms, version, pattern, written_ms)
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, ?2 FROM json_each(?1) WHERE true
         ON CONFLICT (source, stream, key) DO UPDATE SET
           version_ms = excluded.version_ms, version = excluded.version, pattern = excluded.pattern, written_ms = excluded.written_ms
         WHERE excluded.version_ms > marks.version_ms`,
        JSON.stringify(w.marks),
        w.nowMs,
      ).rowsWritten;
    }
    let receipts = 0;
    const byDay = new Map<number, [string, string | number][]>();
    for (const [source, eventId, pattern, receivedMs] of w.receipts) {
      const day = Math.floor(receivedMs / DAY_MS);
      let rows = byDay.get(day);
      if (!rows) {
        rows = [];
        byDay.set(day, rows);
      }
      rows.push([receiptId(source, eventId), patternCode(pattern)]);
    }
    for (const [day, rows] of byDay) {
      if (!this.days.includes(day)) {
        this.sql.exec(`CREATE TABLE IF NOT EXISTS receipts_${day} (id BLOB PRIMARY KEY, pattern ANY NOT NULL) WITHOUT ROWID`);
        this.days = [...this.days, day].sort((a, b) => a - b);
      }
      receipts += this.sql.exec(
        `INSERT OR IGNORE INTO receipts_${day} (id, pattern) SELECT unhex(value->>0), value->>1 FROM json_each(?1)`,
        JSON.stringify(rows),
      ).rowsWritten;
    }
    if (w.receipts.length > 0 && w.keep.receiptsMs !== this.keepReceiptsMs) {
      this.setMeta("keep_receipts_ms", w.keep.receiptsMs);
      this.keepReceiptsMs = w.keep.receiptsMs;
    }
    if (w.marks.length > 0 && w.keep.marksMs !== this.keepMarksMs) {
      this.setMeta("keep_marks_ms", w.keep.marksMs);
      this.keepMarksMs = w.keep.marksMs;
    }
    await this.ensureAlarm();
    return { dedupe, marks, receipts };
  }

  /** Each receipt's pattern, for these event ids of one source. */
  receiptsOf(source: string, eventIds: string[]): [string, string][] {
    const byId = new Map(eventIds.map((e) => [receiptId(source, e), e]));
    const out: [string, string][] = [];
    for (const [id, pattern] of this.heldReceipts([...byId.keys()])) {
      const eventId = byId.get(id);
      if (eventId !== undefined) out.push([eventId, pattern]);
    }
    return out;
  }

  /** Drops dedupe buckets that ended and receipt days past the retention (whole, uncounted), deletes marks past theirs (counted). */
  expire(nowMs: number): { buckets: number; rows: number } {
    let buckets = this.dropBucketsEndedBy(nowMs);
    if (this.keepReceiptsMs !== null) {
      const keep = this.keepReceiptsMs;
      while (this.days.length > 0 && ((this.days[0] as number) + 1) * DAY_MS + keep <= nowMs) {
        this.sql.exec(`DROP TABLE IF EXISTS receipts_${this.days[0]}`);
        this.days = this.days.slice(1);
        buckets++;
      }
    }
    let rows = 0;
    if (this.keepMarksMs !== null) {
      rows += this.sql.exec("DELETE FROM marks WHERE written_ms < ?1", nowMs - this.keepMarksMs).rowsWritten;
    }
    return { buckets, rows };
  }

  size(): ShardSize {
    const count = (table: string) => this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
    return {
      bytes: this.sql.databaseSize,
      dedupe: this.buckets.reduce((n, b) => n + count(`keys_${b}`), 0),
      receipts: this.days.reduce((n, d) => n + count(`receipts_${d}`), 0),
      marks: this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM marks").one().n,
    };
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    this.expire(Date.now() + this.offset);
    await this.ensureAlarm();
  }

  private heldOf(marks: [string, string, string][]): ShardSeen["held"] {
    if (marks.length === 0) return [];
    return this.sql
      .exec<{ source: string; stream: string; key: string; version_ms: number; version: string; pattern: string }>(
        `SELECT o.source, o.stream, o.key, o.version_ms, o.version, o.pattern
         FROM json_each(?1) AS j JOIN marks AS o
           ON o.source = j.value->>0 AND o.stream = j.value->>1 AND o.key = j.value->>2`,
        JSON.stringify(marks),
      )
      .toArray()
      .map((r) => [r.source, r.stream, r.key, r.version_ms, r.version, r.pattern]);
  }

  private dropBucketsEndedBy(nowMs: number): number {
    let dropped = 0;
    while (this.buckets.length > 0 && ((this.buckets[0] as number) + 1) * BUCKET_MS <= nowMs) {
      this.sql.exec(`DROP TABLE IF EXISTS keys_${this.buckets[0]}`);
      this.buckets = this.buckets.slice(1);
      dropped++;
    }
    return dropped;
  }

  /** While the shard holds anything, an alarm is set: at its oldest bucket's end, or within a day. */
  private async ensureAlarm(): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null) return;
    const now = Date.now();
    const first = this.buckets[0];
    const bucketEnd = first === undefined ? Number.POSITIVE_INFINITY : (first + 1) * BUCKET_MS - this.offset;
    const at = Math.min(now + SWEEP_MS, Math.max(now, bucketEnd));
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /** The receipts held of these ids (hex): id → pattern of the earliest day that holds it (a repeat received later keeps the first). */
  private heldReceipts(ids: string[]): Map<string, string> {
    const held = new Map<string, string>();
    if (ids.length === 0 || this.days.length === 0) return held;
    const json = JSON.stringify(ids);
    for (const d of this.days) {
      for (const r of this.sql.exec<{ id: string; pattern: number | string }>(
        `SELECT lower(hex(id)) AS id, pattern FROM receipts_${d} WHERE id IN (SELECT unhex(value) FROM json_each(?1))`,
        json,
      )) {
        if (!held.has(r.id)) held.set(r.id, patternOf(r.pattern));
      }
    }
    return held;
  }

  /** The numbers of the tables named `<prefix><n>`, ascending. */
  private tablesNumbered(prefix: string): number[] {
    return this.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?1) = ?2", prefix.length, prefix)
      .toArray()
      .map((r) => Number(r.name.slice(prefix.length)))
      .filter(Number.isInteger)
      .sort((a, b) => a - b);
  }

  private getMeta(k: string): number | null {
    return this.sql.exec<{ v: number }>("SELECT v FROM meta WHERE k = ?1", k).toArray()[0]?.v ?? null;
  }

  private setMeta(k: string, v: number): void {
    this.sql.exec("INSERT INTO meta (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", k, v);
  }
}

/** A dedupe key's 16-byte id as hex: a digest key's own bytes (tagged when it is a bundle key), else 16 bytes of its SHA-256, tagged. */
export function dedupeId(key: string): string {
  if (/^[0-9a-f]{32}$/.test(key)) return key;
  if (/^bundle:[0-9a-f]{32}$/.test(key)) return `01${key.slice(7)}`;
  return `02${sha256HexNative(key).slice(0, 32)}`;
}

/** A receipt's id: 16 bytes of the SHA-256 of its source and event id. */
export function receiptId(source: string, eventId: string): string {
  return sha256HexNative(`${source}\n${eventId}`).slice(0, 32);
}

/** The patterns a receipt is written with, stored as their index (append only); any other is kept as text. */
const RECEIPT_PATTERNS = ["webhook", "reconcile"];

const patternCode = (pattern: string): string | number => {
  const i = RECEIPT_PATTERNS.indexOf(pattern);
  return i >= 0 ? i : pattern;
};

const patternOf = (code: number | string): string => (typeof code === "number" ? (RECEIPT_PATTERNS[code] ?? String(code)) : code);
