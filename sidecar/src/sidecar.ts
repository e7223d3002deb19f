import pg from "pg";
import { ChangeEncoder } from "./cdc/change-encoder";
import { ChangeHandler } from "./cdc/change-handler";
import { ChangeRecordBuilder } from "./cdc/change-records";
import { RelationCache } from "./cdc/relations";
import { cachedIsoClock, newRunId } from "./clock";
import type { SidecarConfig } from "./config";
import { BatchPipeline } from "./delivery/batch-pipeline";
import { ByteWriter } from "./delivery/byte-writer";
import { type DeliveryBody, SignedSender } from "./delivery/signed-sender";
import { emptyMetrics, type SidecarMetrics } from "./health/metrics";
import { healthReport, reportHealth } from "./health/report-health";
import { errorText, log } from "./log";
import { formatLsn, parseLsn } from "./lsn";
import { decodePgoutput } from "./pgoutput/decode";
import { parseServerCopyData, standbyStatusUpdate } from "./replication/copy-messages";
import { type PgConnectionConfig, ReplicationConnection } from "./replication/replication-connection";
import { ReplicationReleased, SlotInvalidated, ensurePublication, primaryKeyOf, slotState } from "./replication/slot-setup";
import { quoteIdent } from "./replication/sql-quote";
import { InitialSnapshot } from "./snapshot/initial-snapshot";

const QUEUE_PAUSE_BYTES = 4 * 1024 * 1024;
const XLOG_DATA = 0x77;
const XLOG_HEADER = 25;
const RELATION = 0x52; // pgoutput 'R'

export function pgConfigOf(config: SidecarConfig): PgConnectionConfig {
  return { host: config.PGHOST, port: config.PGPORT, user: config.PGUSER, password: config.PGPASSWORD, database: config.PGDATABASE };
}

/**
 * One replication session: sets up publication and slot, streams the slot through the decoder
 * into signed deliveries, confirms durable LSNs, and keeps the guardrails (status updates,
 * heartbeats, slot checks) running. `done` settles when it stops, gracefully or not.
 */
export class Sidecar {
  readonly metrics: SidecarMetrics;
  readonly runId: string;
  readonly done: Promise<void>;
  private settleDone!: { resolve: () => void; reject: (err: Error) => void };
  private db!: pg.Client;
  private repl!: ReplicationConnection;
  private pipeline!: BatchPipeline;
  private handler!: ChangeHandler;
  private relations!: RelationCache;
  /** The primary-key read the Relation message at the head of the stream waits for. */
  private keyRead: Promise<void> | null = null;
  private sender!: SignedSender;
  private snapshot: InitialSnapshot | null = null;
  private queue: (Buffer | undefined)[] = [];
  private head = 0;
  private queuedBytes = 0;
  private draining: Promise<void> | null = null;
  private streaming = false;
  private stopping = false;
  private finished = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private pauseTimer: NodeJS.Timeout | null = null;

  constructor(private readonly config: SidecarConfig) {
    this.metrics = emptyMetrics(config.CDC_SLOT, config.CDC_SOURCE);
    this.runId = newRunId(config.CDC_SLOT);
    this.done = new Promise((resolve, reject) => {
      this.settleDone = { resolve, reject };
    });
    this.done.catch(() => {});
  }

  async start(): Promise<void> {
    const c = this.config;
    this.db = new pg.Client(pgConfigOf(c));
    this.db.on("error", (err) => this.fail(err));
    await this.db.connect();
    if (await ensurePublication(this.db, c.CDC_PUBLICATION, c.CDC_TABLES)) {
      log("info", { event: "cdc.publication_created", source: c.CDC_SOURCE, publication: c.CDC_PUBLICATION });
    }
    const slot = await slotState(this.db, c.CDC_SLOT);
    if (slot.exists && slot.walStatus === "lost") throw new SlotInvalidated(c.CDC_SLOT, "wal_status is lost");
    if (slot.exists && slot.plugin !== "pgoutput") throw new Error(`slot "${c.CDC_SLOT}" uses plugin ${slot.plugin}, not pgoutput`);
    if (slot.active) throw new Error(`slot "${c.CDC_SLOT}" is in use by process ${slot.activePid}; is another sidecar running?`);

    this.repl = new ReplicationConnection(pgConfigOf(c));
    this.repl.client.on("error", (err) => this.fail(err));
    await this.repl.connect();

    let startLsn = slot.confirmedFlushLsn ?? 0n;
    this.snapshot = new InitialSnapshot(c, this.runId, (id, body, n) => this.deliver(id, body, n), this.metrics, pgConfigOf(c));
    if (!slot.exists) {
      this.snapshot.markCreating();
      const kind = c.CDC_SNAPSHOT ? "export" : "nothing";
      const [row] = await this.repl.command(`CREATE_REPLICATION_SLOT ${quoteIdent(c.CDC_SLOT)} LOGICAL pgoutput (SNAPSHOT '${kind}')`);
      startLsn = parseLsn(row?.consistent_point ?? "0/0");
      log("info", { event: "cdc.slot_created", source: c.CDC_SOURCE, slot: c.CDC_SLOT, lsn: formatLsn(startLsn) });
      if (c.CDC_SNAPSHOT && row?.snapshot_name) await this.snapshot.beginExported(row.snapshot_name, startLsn);
    } else {
      await this.snapshot.resumeIfUnfinished();
    }

    this.sender = new SignedSender({
      url: `${c.WORKER_URL.replace(/\/$/, "")}/ingest/cdc`,
      secret: c.CDC_INGEST_SECRET,
      onRetry: (r) => {
        this.metrics.deliveries_retried++;
        log("warn", {
          event: "cdc.delivery_retry",
          source: c.CDC_SOURCE,
          attempt: r.attempt,
          ms: r.waitMs,
          status: r.status,
          error: r.error,
        });
      },
    });
    const clock = cachedIsoClock();
    this.pipeline = new BatchPipeline({
      source: c.CDC_SOURCE,
      runId: this.runId,
      maxRecords: c.CDC_BATCH_MAX_RECORDS,
      maxBytes: c.CDC_BATCH_MAX_BYTES,
      maxInFlight: c.CDC_MAX_IN_FLIGHT,
      lingerMs: c.CDC_LINGER_MS,
      startLsn,
      send: (id, body, n) => this.deliver(id, body, n),
      onDurable: (lsn) => {
        this.metrics.durable_lsn = formatLsn(lsn);
        this.sendStatus();
      },
      onFatal: (err) => this.fail(err),
    });
    this.metrics.durable_lsn = formatLsn(startLsn);
    const builder = new ChangeRecordBuilder(c.CDC_SOURCE, this.runId, clock);
    const encoder = new ChangeEncoder(c.CDC_SOURCE, this.runId, clock, new ByteWriter(1024));
    this.relations = new RelationCache();
    this.handler = new ChangeHandler(this.relations, encoder, builder, this.pipeline, c.CDC_HEARTBEAT_PREFIX);

    // 0/0 lets the server start at the slot's confirmed_flush_lsn.
    const stream = this.repl.start(c.CDC_SLOT, c.CDC_PUBLICATION, 0n, (chunk) => this.onChunk(chunk));
    stream.then(
      () => {
        if (!this.stopping) this.fail(new Error("the server ended the replication stream"));
      },
      (err: Error) => {
        if (!this.stopping) this.fail(err);
      },
    );
    this.streaming = true;
    this.metrics.state = "streaming";
    this.every(c.CDC_STATUS_INTERVAL_MS, () => this.sendStatus());
    if (c.CDC_HEARTBEAT_MS > 0) this.every(c.CDC_HEARTBEAT_MS, () => this.heartbeat());
    this.every(c.CDC_SLOT_CHECK_MS, () => this.checkSlot());
    void this.checkSlot();
    if (c.CDC_HEALTH_REPORT_MS > 0) this.every(c.CDC_HEALTH_REPORT_MS, () => this.sendHealth());
    this.snapshot.run().catch((err: Error) => this.fail(err));
    log("info", { event: "cdc.streaming", source: c.CDC_SOURCE, run_id: this.runId, slot: c.CDC_SLOT, lsn: formatLsn(startLsn) });
  }

  /** Graceful stop: finish what was received, deliver it, confirm the durable LSN, disconnect. */
  async stop(): Promise<void> {
    if (this.stopping || this.finished) return this.done.catch(() => {});
    this.stopping = true;
    this.metrics.state = "stopping";
    const started = Date.now();
    if (!this.repl || !this.pipeline) return this.finish(null);
    this.repl.pause();
    this.snapshot?.stop();
    const deadline = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), this.config.CDC_SHUTDOWN_TIMEOUT_MS).unref());
    const flushed = (async () => {
      while (this.draining) await this.draining;
      await this.pipeline.flush();
      await this.snapshot?.settled();
    })();
    const outcome = await Promise.race([flushed.then(() => "flushed" as const), deadline]);
    this.sendStatus();
    this.repl.endCopy();
    this.repl.resume();
    await Promise.race([this.repl.streamDone.catch(() => {}), new Promise((r) => setTimeout(r, 3000).unref())]);
    log("info", {
      event: "cdc.stopped",
      source: this.config.CDC_SOURCE,
      run_id: this.runId,
      lsn: formatLsn(this.pipeline.durable),
      records: this.pipeline.delivered,
      ms: Date.now() - started,
      outcome,
    });
    return this.finish(null);
  }

  private async finish(err: Error | null): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    for (const t of this.timers) clearInterval(t);
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.sender?.abort();
    this.snapshot?.stop();
    await this.repl?.close();
    await this.db?.end().catch(() => {});
    this.metrics.state = err ? "failed" : "stopped";
    if (err) {
      this.metrics.error = errorText(err);
      this.settleDone.reject(err);
    } else this.settleDone.resolve();
  }

  private fail(err: Error): void {
    if (this.finished) return;
    log("error", { event: "cdc.failed", source: this.config.CDC_SOURCE, run_id: this.runId, error: errorText(err) });
    this.stopping = true;
    void this.finish(err);
  }

  private deliver(id: string, body: DeliveryBody, records: number): Promise<void> {
    const started = Date.now();
    return this.sender.send(id, body).then(() => {
      // Progress: a socket paused behind a slow but working Worker is not held against it.
      this.pauseTimer?.refresh();
      this.metrics.records_delivered += records;
      log("info", { event: "cdc.delivered", source: this.config.CDC_SOURCE, run_id: this.runId, records, ms: Date.now() - started });
    });
  }

  /**
   * pg hands us CopyData views into its own read buffer, which it reuses: a chunk is processed
   * at once when possible, and copied only when it has to wait in the queue.
   */
  private onChunk(chunk: Buffer): void {
    if (this.stopping || this.finished) return;
    if (!this.draining && this.head === this.queue.length) {
      try {
        // A Relation message waiting for its primary key is queued, and the drain waits for the read.
        if (!this.keyReadFor(chunk)) {
          this.process(chunk);
          if (!this.pipeline.hasCapacity) {
            this.pauseSocket();
            this.draining = this.drain().finally(() => (this.draining = null));
          }
          return;
        }
      } catch (err) {
        this.fail(err as Error);
        return;
      }
    }
    const copy = Buffer.from(chunk);
    this.queue.push(copy);
    this.queuedBytes += copy.length;
    if (this.queuedBytes > QUEUE_PAUSE_BYTES) this.pauseSocket();
    if (!this.draining) this.draining = this.drain().finally(() => (this.draining = null));
  }

  /** Works through queued chunks, waiting for delivery capacity between them. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (!this.pipeline.hasCapacity) {
          this.pauseSocket();
          await this.pipeline.waitCapacity();
        }
        if (this.head >= this.queue.length || this.finished) break;
        const chunk = this.queue[this.head] as Buffer;
        const keyRead = this.keyReadFor(chunk);
        if (keyRead) {
          // Nothing behind it is processed meanwhile, so no keepalive confirms past it either.
          await keyRead;
          continue;
        }
        this.queue[this.head++] = undefined;
        this.queuedBytes -= chunk.length;
        this.process(chunk);
      }
      this.queue = [];
      this.head = 0;
      this.queuedBytes = 0;
      if (this.pipeline.hasCapacity) this.resumeSocket();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private process(chunk: Buffer): void {
    if (chunk[0] === XLOG_DATA && chunk.length >= XLOG_HEADER) {
      // XLogData: 'w', WAL start (two 32-bit halves), WAL end, send time, then the pgoutput message.
      this.handler.handle(chunk, XLOG_HEADER, chunk.readUInt32BE(1), chunk.readUInt32BE(5));
      return;
    }
    const m = parseServerCopyData(chunk);
    if (m.kind === "xlog") throw new Error("XLogData shorter than its header");
    // Safe only with nothing unprocessed before the keepalive and no transaction half received.
    if (!this.handler.inTransaction && this.head === this.queue.length) this.pipeline.advanceIdle(m.walEnd);
    if (m.replyRequested) this.sendStatus();
  }

  /**
   * For the Relation message of a REPLICA IDENTITY FULL table, the read of its primary key (the
   * record key), which the message waits for; undefined for anything else or once read. The read
   * takes one query on the session's connection, and holds the stream only while it runs.
   */
  private keyReadFor(chunk: Buffer): Promise<void> | undefined {
    if (chunk[XLOG_HEADER] !== RELATION || chunk[0] !== XLOG_DATA) return undefined;
    const m = decodePgoutput(chunk.subarray(XLOG_HEADER));
    if (m.tag !== "relation" || !this.relations.awaitsPrimaryKey(m)) return undefined;
    if (!this.keyRead) {
      const read = primaryKeyOf(this.db, m.relationId).then((columns) => this.relations.primaryKeyRead(m.relationId, columns));
      this.keyRead = read.finally(() => (this.keyRead = null));
      this.keyRead.catch(() => {}); // awaited by the drain, which fails the session on an error
    }
    return this.keyRead;
  }

  private pauseSocket(): void {
    this.repl.pause();
    this.metrics.socket_paused = true;
    if (!this.pauseTimer && !this.stopping) {
      const limit = this.config.CDC_MAX_PAUSE_MS;
      this.pauseTimer = setTimeout(() => this.fail(new ReplicationReleased(limit)), limit);
      this.pauseTimer.unref();
    }
  }

  private resumeSocket(): void {
    if (this.stopping) return;
    this.repl.resume();
    this.metrics.socket_paused = false;
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = null;
  }

  private sendStatus(): void {
    if (!this.streaming || this.finished) return;
    this.metrics.in_flight_batches = this.pipeline.inFlight;
    this.metrics.received_lsn = formatLsn(this.handler.stats.receivedLsn);
    Object.assign(this.metrics, {
      changes: this.handler.stats.changes,
      transactions: this.handler.stats.transactions,
      heartbeats_seen: this.handler.stats.heartbeats,
      last_commit_time: this.handler.stats.lastCommitTime,
    });
    try {
      this.repl.send(standbyStatusUpdate(this.pipeline.durable));
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.db.query("SELECT pg_logical_emit_message(true, $1, $2)", [this.config.CDC_HEARTBEAT_PREFIX, new Date().toISOString()]);
      this.metrics.heartbeats_sent++;
    } catch (err) {
      log("warn", { event: "cdc.heartbeat_failed", source: this.config.CDC_SOURCE, error: errorText(err) });
    }
  }

  private heartbeatsCounted = 0;
  private heartbeatAt: string | null = null;

  /** Reports slot and heartbeat health to the Worker; a heartbeat counts once it came back through the slot. */
  private async sendHealth(): Promise<void> {
    const seen = this.handler.stats.heartbeats;
    if (seen > this.heartbeatsCounted) {
      this.heartbeatsCounted = seen;
      this.heartbeatAt = new Date().toISOString();
    }
    await reportHealth(this.config.WORKER_URL, this.config.CDC_INGEST_SECRET, healthReport(this.metrics, this.heartbeatAt));
  }

  private async checkSlot(): Promise<void> {
    if (this.finished) return;
    try {
      const s = await slotState(this.db, this.config.CDC_SLOT);
      Object.assign(this.metrics, {
        slot_lag_bytes: s.lagBytes,
        slot_wal_status: s.walStatus,
        slot_safe_wal_size: s.safeWalSize,
        slot_checked_at: new Date().toISOString(),
      });
      log("info", {
        event: "cdc.slot",
        source: this.config.CDC_SOURCE,
        slot: this.config.CDC_SLOT,
        lag_bytes: s.lagBytes,
        wal_status: s.walStatus,
        safe_wal_size: s.safeWalSize,
        lsn: this.metrics.durable_lsn,
      });
      await this.snapshot?.checkNewTables();
      if (!s.exists) this.fail(new Error(`replication slot "${this.config.CDC_SLOT}" was dropped while streaming`));
      else if (s.walStatus === "lost") this.fail(new SlotInvalidated(this.config.CDC_SLOT, "wal_status is lost"));
    } catch (err) {
      if (!this.finished) log("warn", { event: "cdc.slot_check_failed", source: this.config.CDC_SOURCE, error: errorText(err) });
    }
  }

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(() => void fn(), ms);
    t.unref();
    this.timers.push(t);
  }
}
