import type { DeliveryBody } from "../delivery/signed-sender";
import pg from "pg";
import { ChangeRecordBuilder } from "../cdc/change-records";
import { streamName } from "../cdc/stream-name";
import { cachedIsoClock } from "../clock";
import type { SidecarConfig } from "../config";
import { deliveryBody, packStream } from "../delivery/bundle-pack";
import type { SidecarMetrics } from "../health/metrics";
import { errorText, log } from "../log";
import { formatLsn } from "../lsn";
import { snapshotVersion } from "./snapshot-version";
import { readState, type SnapshotState, type TableState, writeState } from "./state-file";
import { fetchCursor, openCursor, publicationTables, readChunk, type SnapshotTable } from "./table-copy";

type Deliver = (messageId: string, body: DeliveryBody, records: number) => Promise<void>;

/**
 * Copies the publication's existing rows as `op: "snapshot"` records. On a new slot it reads
 * inside the slot's exported snapshot, so the copy and the stream meet exactly at the slot's
 * consistent point. Rows are keyed like their changes (by the replica identity, table-copy.ts).
 * Progress (last key per table) is saved after each delivered chunk;
 * a restart continues from there with a fresh snapshot, and the stream's changes since the
 * consistent point make up for anything that moved meanwhile.
 */
export class InitialSnapshot {
  private db: pg.Client | null = null;
  private state: SnapshotState | null = null;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly builder: ChangeRecordBuilder;

  constructor(
    private readonly config: SidecarConfig,
    private readonly runId: string,
    private readonly deliver: Deliver,
    private readonly metrics: SidecarMetrics,
    private readonly pgConfig: pg.ClientConfig,
  ) {
    this.builder = new ChangeRecordBuilder(config.CDC_SOURCE, runId, cachedIsoClock());
  }

  /** Called before CREATE_REPLICATION_SLOT: a crash between the two must not skip the copy. */
  markCreating(): void {
    if (!this.config.CDC_SNAPSHOT) return;
    writeState(this.config.CDC_STATE_FILE, { v: 1, slot: this.config.CDC_SLOT, phase: "creating", lsn: null, tables: {} });
  }

  /** Imports the exported snapshot; must run before the replication connection does anything else. */
  async beginExported(snapshotName: string, lsn: bigint): Promise<void> {
    const db = await this.open();
    await db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await db.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replace(/'/g, "''")}'`);
    await this.plan(db, formatLsn(lsn), {});
  }

  /**
   * After a restart, and periodically while streaming: continues an unfinished copy, starts one
   * if the slot was created but the copy never planned, and backfills tables that joined the
   * publication since (in a fresh snapshot; their changes since joining are in the stream).
   * Returns whether there is copying to do.
   */
  async prepareFromState(): Promise<boolean> {
    if (!this.config.CDC_SNAPSHOT) return false;
    const saved = readState(this.config.CDC_STATE_FILE);
    if (!saved || saved.slot !== this.config.CDC_SLOT) return false;
    const db = await this.open();
    // Read before the snapshot is taken (by the first query in the transaction): a change the copy
    // does not see then commits at or past this LSN (but for a commit in flight at that instant), so
    // downstream ordering by commit LSN puts it after the copied row.
    const lsn = (await db.query("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l as string;
    await db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const tables = await publicationTables(db, this.config.CDC_PUBLICATION);
    const pending = tables.filter((t) => !saved.tables[`${t.schema}.${t.name}`]?.done);
    if (saved.phase === "done" && pending.length === 0) {
      await db.end().catch(() => {});
      this.db = null;
      return false;
    }
    await this.plan(db, lsn, saved.tables);
    log("info", {
      event: saved.phase === "done" ? "cdc.snapshot_backfill" : "cdc.snapshot_resumed",
      source: this.config.CDC_SOURCE,
      lsn,
      tables: pending.map((t) => `${t.schema}.${t.name}`).join(","),
    });
    return true;
  }

  async resumeIfUnfinished(): Promise<void> {
    await this.prepareFromState();
  }

  /** Starts a backfill for tables new to the publication, unless a copy is already running. */
  async checkNewTables(): Promise<void> {
    if (this.stopped || this.copying) return;
    this.copying = true;
    let work = false;
    try {
      work = await this.prepareFromState();
    } finally {
      if (!work) this.copying = false;
    }
    if (work)
      void this.run().catch((err: Error) =>
        log("error", { event: "cdc.snapshot_failed", source: this.config.CDC_SOURCE, error: errorText(err) }),
      );
  }

  run(): Promise<void> {
    this.running = this.copyAll();
    return this.running;
  }

  private copying = false;

  stop(): void {
    this.stopped = true;
  }

  async settled(): Promise<void> {
    await this.running.catch(() => {});
  }

  private async open(): Promise<pg.Client> {
    this.db = new pg.Client(this.pgConfig);
    this.db.on("error", () => {});
    await this.db.connect();
    return this.db;
  }

  private async plan(db: pg.Client, lsn: string, previous: SnapshotState["tables"]): Promise<void> {
    const tables = await publicationTables(db, this.config.CDC_PUBLICATION);
    const state: SnapshotState = { v: 1, slot: this.config.CDC_SLOT, phase: "copying", lsn, tables: {} };
    for (const t of tables) {
      const key = `${t.schema}.${t.name}`;
      const prev = previous[key];
      state.tables[key] = prev && (prev.done || resumable(prev, t)) ? prev : { after: null, rows: 0, done: false, by: t.pageBy };
    }
    this.state = state;
    this.tables = tables;
    this.metrics.snapshot_done = false;
    writeState(this.config.CDC_STATE_FILE, state);
  }

  private tables: SnapshotTable[] = [];

  private async copyAll(): Promise<void> {
    const state = this.state;
    const db = this.db;
    if (!state || !db) return;
    const started = Date.now();
    this.copying = true;
    try {
      for (const t of this.tables) {
        const key = `${t.schema}.${t.name}`;
        const ts = state.tables[key];
        if (!ts || ts.done) continue;
        await this.copyTable(db, t, state);
        if (this.stopped) return;
      }
      state.phase = "done";
      writeState(this.config.CDC_STATE_FILE, state);
      this.metrics.snapshot_done = true;
      await db.query("COMMIT");
      const rows = Object.values(state.tables).reduce((n, t) => n + t.rows, 0);
      log("info", { event: "cdc.snapshot_done", source: this.config.CDC_SOURCE, records: rows, ms: Date.now() - started, lsn: state.lsn });
    } catch (err) {
      if (!this.stopped) throw new Error(`initial snapshot failed: ${errorText(err)}`);
    } finally {
      await db.end().catch(() => {});
      this.db = null;
      this.state = null;
      this.copying = false;
    }
  }

  private async copyTable(db: pg.Client, t: SnapshotTable, state: SnapshotState): Promise<void> {
    const key = `${t.schema}.${t.name}`;
    const ts = state.tables[key] as SnapshotState["tables"][string];
    const stream = streamName(t.schema, t.name);
    const limit = this.config.CDC_SNAPSHOT_CHUNK_ROWS;
    const cursor = `dock_snapshot_${Object.keys(state.tables).indexOf(key)}`;
    const keyed = t.pageBy.length > 0;
    if (!keyed) await openCursor(db, t, cursor);
    const keyIdx = t.key.map((c) => t.columns.indexOf(c));
    const pageIdx = t.pageBy.map((c) => t.columns.indexOf(c));
    const version = snapshotVersion(state.lsn ?? "0/0");
    const columnKeys = t.columns.map((c) => `${JSON.stringify(c)}:`);
    while (!this.stopped) {
      const rows = keyed ? await readChunk(db, t, ts.after, limit) : await fetchCursor(db, cursor, limit);
      if (rows.length === 0) break;
      const records = rows.map((fetched) => {
        // Keyless tables come with their ctid first: it becomes the key (unique within the snapshot).
        const row = keyed ? fetched : fetched.slice(1);
        const json = `{${row.map((v, i) => `${columnKeys[i]}${v === null ? "null" : JSON.stringify(v)}`).join(",")}}`;
        const values = keyIdx.map((i) => row[i] ?? null);
        const k =
          values.length === 1 && typeof values[0] === "string"
            ? values[0]
            : values.length === 0
              ? `ctid:${fetched[0]}`
              : JSON.stringify(values);
        return this.builder.record(stream, k, version, "snapshot", { lsn: state.lsn }, json);
      });
      const head = {
        source: this.config.CDC_SOURCE,
        stream,
        pattern: "cdc" as const,
        received_at: new Date().toISOString(),
        run_id: this.runId,
      };
      await this.deliver(`${this.runId}-snapshot-${stream}-${ts.rows}`, deliveryBody(packStream(head, records)), records.length);
      const last = rows[rows.length - 1] as (string | null)[];
      ts.after = keyed ? pageIdx.map((i) => last[i] as string) : null;
      ts.by = t.pageBy;
      ts.rows += rows.length;
      this.metrics.snapshot_rows += rows.length;
      writeState(this.config.CDC_STATE_FILE, state);
      if (rows.length < limit) break;
    }
    if (this.stopped) return;
    ts.done = true;
    writeState(this.config.CDC_STATE_FILE, state);
    log("info", { event: "cdc.snapshot_table_done", source: this.config.CDC_SOURCE, stream, records: ts.rows });
  }
}

/**
 * Whether a table's saved position can be continued: it has one, and it is a position in the
 * columns the copy pages by now (a state file written before `by` was saved paged by the primary
 * key; a table whose replica identity changed since starts over).
 */
function resumable(prev: TableState, t: SnapshotTable): boolean {
  if (t.pageBy.length === 0) return false;
  if (prev.after === null) return true;
  const by = prev.by ?? t.primaryKey;
  return by.length === t.pageBy.length && by.every((c, i) => c === t.pageBy[i]);
}
