import { DurableObject } from "cloudflare:workers";

/*
 * One shard of the record ledger: a SQLite-backed Durable Object holding the dedupe keys, receipts
 * and marks whose keys hash to it. Each method is one RPC and runs its SQL synchronously, so a
 * call's work is atomic for the object. Rows are kept small (WITHOUT ROWID, integer times):
 *
 * - dedupe keys live in one table per 8-hour expiry bucket (`dedupe_<bucket>`: id, token); a bucket
 *   whose end has passed is dropped whole, so expiry needs no index and no per-row delete. A key is
 *   kept from its write until between its expiry and 8 hours after.
 * - receipts (source, event_id → dock_id, stream, pattern, received_ms) and marks (source, stream,
 *   key → version_ms, version, pattern, written_ms) go once they are older than the retention the
 *   writer last sent for each, swept by the alarm (and by `expire`).
 *
 * The shard's clock is its writers' (the `now` each write sends), carried forward by the wall clock
 * between writes: the same in production, and a test that writes at a fixed past time is not
 * expired by an alarm reading today's date.
 */

const BUCKET_MS = 8 * 3_600_000;
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
  /** [source, event_id, dock_id, stream, pattern, received_ms] */
  receipts: [string, string, string, string, string, number][];
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
      `CREATE TABLE IF NOT EXISTS receipts (source TEXT NOT NULL, event_id TEXT NOT NULL, dock_id TEXT NOT NULL,
         stream TEXT NOT NULL, pattern TEXT NOT NULL, received_ms INTEGER NOT NULL, PRIMARY KEY (source, event_id)) WITHOUT ROWID`,
    );
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS marks (source TEXT NOT NULL, stream TEXT NOT NULL, key TEXT NOT NULL, version_ms INTEGER NOT NULL,
         version TEXT NOT NULL, pattern TEXT NOT NULL, written_ms INTEGER NOT NULL, PRIMARY KEY (source, stream, key)) WITHOUT ROWID`,
    );
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID");
    this.buckets = this.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'dedupe\\_%' ESCAPE '\\'")
      .toArray()
      .map((r) => Number(r.name.slice("dedupe_".length)))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    this.offset = this.getMeta("clock_offset") ?? 0;
    this.keepReceiptsMs = this.getMeta("keep_receipts_ms");
    this.keepMarksMs = this.getMeta("keep_marks_ms");
  }

  read(q: ShardRead): ShardSeen {
    const seen: [string, number][] = [];
    if (q.keys.length > 0) {
      const keys = JSON.stringify(q.keys);
      for (const b of this.buckets) {
        for (const r of this.sql.exec<{ id: string; token: number }>(
          `SELECT id, token FROM dedupe_${b} WHERE id IN (SELECT value FROM json_each(?1))`,
          keys,
        )) {
          seen.push([r.id, r.token]);
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
        this.sql.exec(`CREATE TABLE IF NOT EXISTS dedupe_${bucket} (id TEXT PRIMARY KEY, token INTEGER NOT NULL) WITHOUT ROWID`);
        this.buckets = [...this.buckets, bucket].sort((a, b) => a - b);
      }
      dedupe = this.sql.exec(
        `INSERT OR IGNORE INTO dedupe_${bucket} (id, token) SELECT value->>0, value->>1 FROM json_each(?1)`,
        JSON.stringify(w.dedupe),
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
    if (w.receipts.length > 0) {
      receipts = this.sql.exec(
        `INSERT OR IGNORE INTO receipts (source, event_id, dock_id, stream, pattern, received_ms)
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?1)`,
        JSON.stringify(w.receipts),
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
    return this.sql
      .exec<{ event_id: string; pattern: string }>(
        "SELECT event_id, pattern FROM receipts WHERE source = ?1 AND event_id IN (SELECT value FROM json_each(?2))",
        source,
        JSON.stringify(eventIds),
      )
      .toArray()
      .map((r) => [r.event_id, r.pattern]);
  }

  /** Receipts of a source with this pattern in each [from, to) range of epoch ms: one pass over the source's rows. */
  countReceipts(source: string, pattern: string, ranges: [number, number][], exceptStreams: string[] = []): number[] {
    const counts = ranges.map(() => 0);
    for (const r of this.sql.exec<{ received_ms: number }>(
      "SELECT received_ms FROM receipts WHERE source = ?1 AND pattern = ?2 AND stream NOT IN (SELECT value FROM json_each(?3))",
      source,
      pattern,
      JSON.stringify(exceptStreams),
    )) {
      ranges.forEach(([from, to], i) => {
        if (r.received_ms >= from && r.received_ms < to) counts[i] = (counts[i] ?? 0) + 1;
      });
    }
    return counts;
  }

  /** Drops dedupe buckets that ended (whole, uncounted), deletes receipts and marks past the retention (counted). */
  expire(nowMs: number): { buckets: number; rows: number } {
    const buckets = this.dropBucketsEndedBy(nowMs);
    let rows = 0;
    if (this.keepReceiptsMs !== null) {
      rows += this.sql.exec("DELETE FROM receipts WHERE received_ms < ?1", nowMs - this.keepReceiptsMs).rowsWritten;
    }
    if (this.keepMarksMs !== null) {
      rows += this.sql.exec("DELETE FROM marks WHERE written_ms < ?1", nowMs - this.keepMarksMs).rowsWritten;
    }
    return { buckets, rows };
  }

  size(): ShardSize {
    let dedupe = 0;
    for (const b of this.buckets) dedupe += this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM dedupe_${b}`).one().n;
    return {
      bytes: this.sql.databaseSize,
      dedupe,
      receipts: this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM receipts").one().n,
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
      this.sql.exec(`DROP TABLE IF EXISTS dedupe_${this.buckets[0]}`);
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

  private getMeta(k: string): number | null {
    return this.sql.exec<{ v: number }>("SELECT v FROM meta WHERE k = ?1", k).toArray()[0]?.v ?? null;
  }

  private setMeta(k: string, v: number): void {
    this.sql.exec("INSERT INTO meta (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", k, v);
  }
}
