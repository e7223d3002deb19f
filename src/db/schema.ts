import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Times are ISO-8601 UTC strings: they sort as text and read well in a query result. */

/** Where each stream's incremental pull got to. Advanced only after its records are on INGEST. */
export const cursors = sqliteTable(
  "cursors",
  {
    source: text("source").notNull(),
    stream: text("stream").notNull(),
    cursor: text("cursor").notNull(),
    runId: text("run_id"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.stream] })],
);

/** `_dock.id`s (or bundle keys) already written, kept for a retention window and then pruned. */
export const dedupeKeys = sqliteTable(
  "dedupe_keys",
  {
    id: text("id").primaryKey(),
    expiresAt: text("expires_at").notNull(),
  },
  (t) => [index("dedupe_keys_expires").on(t.expiresAt)],
);

/** One row per vendor event that reached the raw zone: what reconciliation compares against. */
export const webhookReceipts = sqliteTable(
  "webhook_receipts",
  {
    source: text("source").notNull(),
    eventId: text("event_id").notNull(),
    dockId: text("dock_id").notNull(),
    stream: text("stream").notNull(),
    pattern: text("pattern").notNull(),
    receivedAt: text("received_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.eventId] }), index("webhook_receipts_time").on(t.source, t.receivedAt)],
);

/** One row per poll, refresh, reconcile or file run. */
export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    source: text("source").notNull(),
    stream: text("stream").notNull(),
    pattern: text("pattern").notNull(),
    status: text("status", { enum: ["running", "succeeded", "failed", "paused"] }).notNull(),
    startedAt: text("started_at").notNull(),
    finishedAt: text("finished_at"),
    records: integer("records").notNull().default(0),
    pages: integer("pages").notNull().default(0),
    cursorFrom: text("cursor_from"),
    cursorTo: text("cursor_to"),
    error: text("error"),
    /** Pattern-specific state as JSON (page token, snapshot parts, job ids). */
    state: text("state"),
  },
  (t) => [index("runs_stream_time").on(t.source, t.stream, t.startedAt), index("runs_status").on(t.status)],
);

/** Every object the raw writer put in R2. */
export const rawObjects = sqliteTable(
  "raw_objects",
  {
    key: text("key").primaryKey(),
    source: text("source").notNull(),
    stream: text("stream").notNull(),
    pattern: text("pattern").notNull(),
    records: integer("records").notNull(),
    bytes: integer("bytes").notNull(),
    writtenAt: text("written_at").notNull(),
  },
  (t) => [index("raw_objects_stream_time").on(t.source, t.stream, t.writtenAt)],
);

/** Running totals per stream, kept by the raw writer in the same D1 batch as the objects. */
export const streamStats = sqliteTable(
  "stream_stats",
  {
    source: text("source").notNull(),
    stream: text("stream").notNull(),
    records: integer("records").notNull().default(0),
    objects: integer("objects").notNull().default(0),
    bytes: integer("bytes").notNull().default(0),
    firstReceivedAt: text("first_received_at").notNull(),
    lastReceivedAt: text("last_received_at").notNull(),
    lastWrittenAt: text("last_written_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.stream] })],
);

// ── Batch files (issue 9) ────────────────────────────────────────────────────────────────────────

/**
 * One row per file landed under `files/`. (source, sha256) is unique, so the same bytes are never
 * ingested twice; a new version of a file with the same name has a new sha256 and a new row.
 * `parse_offset` is where the next parse step starts (bytes of the file, or of the decompressed
 * text for gzip'd files); `queued_offset` is the offset whose continuation is known to be on JOBS.
 */
export const fileLedger = sqliteTable(
  "file_ledger",
  {
    key: text("key").primaryKey(),
    source: text("source").notNull(),
    stream: text("stream").notNull(),
    name: text("name").notNull(),
    format: text("format").notNull(),
    sha256: text("sha256").notNull(),
    size: integer("size").notNull(),
    origin: text("origin").notNull(),
    status: text("status", { enum: ["parsing", "parsed", "failed", "unparsed"] }).notNull(),
    runId: text("run_id").notNull(),
    rows: integer("rows").notNull().default(0),
    badRows: integer("bad_rows").notNull().default(0),
    bytes: integer("bytes").notNull().default(0),
    parseOffset: integer("parse_offset").notNull().default(0),
    parseLine: integer("parse_line").notNull().default(1),
    queuedOffset: integer("queued_offset").notNull().default(0),
    steps: integer("steps").notNull().default(0),
    /** Parse state carried across steps as JSON (header fields, encoding, sheet position). */
    state: text("state"),
    error: text("error"),
    landedAt: text("landed_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("file_ledger_sha").on(t.source, t.sha256), index("file_ledger_status").on(t.status, t.updatedAt)],
);

// ── Poll engine (src/pollers) ──────────────────────────────────────────────────────────────────

/**
 * One row per stream and pattern (poll, full_refresh): when it is due next, which run holds it
 * (so two runs of one stream never overlap) and how the last run ended.
 */
export const pollSchedule = sqliteTable(
  "poll_schedule",
  {
    source: text("source").notNull(),
    stream: text("stream").notNull(),
    pattern: text("pattern").notNull(),
    nextDueAt: text("next_due_at").notNull(),
    activeRunId: text("active_run_id"),
    heartbeatAt: text("heartbeat_at"),
    lastRunId: text("last_run_id"),
    lastStatus: text("last_status"),
    lastFinishedAt: text("last_finished_at"),
    lastError: text("last_error"),
  },
  (t) => [primaryKey({ columns: [t.source, t.stream, t.pattern] }), index("poll_schedule_due").on(t.pattern, t.nextDueAt)],
);

// ── Operations (issue 10: src/ops, src/admin, src/status-page) ─────────────────────────────────

/** A stream's declared SLO, overriding the default of its pattern (see docs/operations.md). */
export const streamSlos = sqliteTable(
  "stream_slos",
  {
    source: text("source").notNull(),
    stream: text("stream").notNull(),
    /** Silence (no record / no successful run / no heartbeat) tolerated before the stream is late. */
    maxSilenceMinutes: integer("max_silence_minutes").notNull(),
    /** Consecutive empty runs, on a stream that usually brings records, before it is zero-record. */
    zeroRecordRuns: integer("zero_record_runs").notNull().default(3),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.stream] })],
);

/** Pause switches per source: a paused source gets no scheduled runs (webhooks are still accepted). */
export const sourceControls = sqliteTable("source_controls", {
  source: text("source").primaryKey(),
  paused: integer("paused", { mode: "boolean" }).notNull(),
  reason: text("reason"),
  changedBy: text("changed_by").notNull(),
  changedAt: text("changed_at").notNull(),
});

/** The last alerted state per subject (a stream, a DLQ, a slot), so a condition alerts once. */
export const alertState = sqliteTable("alert_state", {
  subject: text("subject").primaryKey(),
  condition: text("condition").notNull(),
  detail: text("detail"),
  since: text("since").notNull(),
  alertedAt: text("alerted_at").notNull(),
});

/** Every admin call: who (a token fingerprint, never the token), what, when, with which parameters. */
export const adminAudit = sqliteTable(
  "admin_audit",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: text("at").notNull(),
    actor: text("actor").notNull(),
    /** The name the caller claims (X-Dock-Actor), kept apart from the fingerprint because it is not verified. */
    claimedActor: text("claimed_actor"),
    method: text("method").notNull(),
    path: text("path").notNull(),
    action: text("action").notNull(),
    params: text("params"),
    status: integer("status").notNull(),
  },
  (t) => [index("admin_audit_at").on(t.at)],
);

/** The CDC sidecar's last health report per slot. */
export const sidecarHealth = sqliteTable(
  "sidecar_health",
  {
    source: text("source").notNull(),
    slot: text("slot").notNull(),
    state: text("state"),
    slotLagBytes: integer("slot_lag_bytes"),
    walStatus: text("wal_status"),
    safeWalSize: integer("safe_wal_size"),
    heartbeatAt: text("heartbeat_at"),
    durableLsn: text("durable_lsn"),
    error: text("error"),
    reportedAt: text("reported_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.slot] })],
);

/** Messages a dead-letter queue delivered, parked until an admin re-drives them to their queue. */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    /** The queue the message failed on (the DLQ's name without `-dlq`). */
    queue: text("queue").notNull(),
    source: text("source"),
    stream: text("stream"),
    body: text("body").notNull(),
    attempts: integer("attempts").notNull(),
    parkedAt: text("parked_at").notNull(),
    redrivenAt: text("redriven_at"),
  },
  (t) => [index("dead_letters_open").on(t.queue, t.redrivenAt)],
);

// ── Reconciliation (src/reconcile) ─────────────────────────────────────────────────────────────

/**
 * One row per webhook source: how far its events have been reconciled (the watermark moves only
 * after the missing ones are on INGEST), which run holds the source now, how the last run ended,
 * and the range lost for good when the source was down longer than the vendor keeps history.
 */
export const reconcileState = sqliteTable("reconcile_state", {
  source: text("source").primaryKey(),
  reconciledTo: text("reconciled_to"),
  activeRunId: text("active_run_id"),
  heartbeatAt: text("heartbeat_at"),
  lastRunId: text("last_run_id"),
  lastStatus: text("last_status"),
  lastError: text("last_error"),
  lastFinishedAt: text("last_finished_at"),
  unrecoverableFrom: text("unrecoverable_from"),
  unrecoverableTo: text("unrecoverable_to"),
  updatedAt: text("updated_at").notNull(),
});

/**
 * Every event a vendor's listing named, once (by event id), with how it reached the raw zone:
 * `webhook`, `reconcile` (sent by a reconciliation) or `missing` (listed, but the vendor gave no
 * payload to recover). The ledger counts from here, so overlapping windows never count twice.
 * Pruned once older than the vendor's history: no window may reach back that far.
 */
export const reconcileEvents = sqliteTable(
  "reconcile_events",
  {
    source: text("source").notNull(),
    eventId: text("event_id").notNull(),
    occurredAt: text("occurred_at").notNull(),
    outcome: text("outcome", { enum: ["webhook", "held", "reconcile", "missing"] }).notNull(),
    runId: text("run_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.eventId] }), index("reconcile_events_time").on(t.source, t.occurredAt)],
);

/**
 * The completeness ledger, per source and UTC day (of the vendor's event time): what the vendor
 * says happened, what came by webhook, what reconciliation recovered, what is still missing, and
 * which part of the day reconciled windows cover. Status: complete | partial | incomplete |
 * not reconcilable | unrecoverable range.
 */
export const reconcileLedger = sqliteTable(
  "reconcile_ledger",
  {
    source: text("source").notNull(),
    day: text("day").notNull(),
    expected: integer("expected"),
    received: integer("received"),
    recovered: integer("recovered"),
    missing: integer("missing"),
    windowFrom: text("window_from"),
    windowTo: text("window_to"),
    runId: text("run_id"),
    status: text("status").notNull(),
    detail: text("detail"),
    updatedAt: text("updated_at").notNull(),
    /** `event`: listed events vs webhook receipts; `record`: listed objects vs the versions held (object_versions). */
    unit: text("unit", { enum: ["event", "record"] })
      .notNull()
      .default("event"),
  },
  (t) => [primaryKey({ columns: [t.source, t.day] })],
);

/**
 * The per-object high-water mark of record-level reconciliation: for each object of a source's
 * tracked object streams, the newest version the raw writer wrote (any pattern), kept in the same
 * batch as the rest of the writer's ledger. `version_ms` is the version's time (the source's
 * `versionTime`), which orders versions of one object; one row per object, replaced only by a newer
 * one. WITHOUT ROWID (migration 0007): the primary key is the only B-tree.
 */
export const objectVersions = sqliteTable(
  "object_versions",
  {
    source: text("source").notNull(),
    stream: text("stream").notNull(),
    key: text("key").notNull(),
    versionMs: integer("version_ms").notNull(),
    version: text("version").notNull(),
    pattern: text("pattern").notNull(),
    writtenAt: text("written_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.stream, t.key] })],
);

/**
 * The newest refresh token of an OAuth grant whose vendor rotates it (see src/sources/rest/refresh-tokens.ts):
 * stored, sealed with a key derived from the configured secrets, before the access token it came with is used.
 */
export const oauthRefreshTokens = sqliteTable("oauth_refresh_tokens", {
  grantKey: text("grant_key").primaryKey(),
  sealed: text("sealed").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** Admin-token attempts per client not yet proven right, for throttling wrong tokens (src/admin/throttle.ts). */
export const authAttempts = sqliteTable("auth_attempts", {
  client: text("client").primaryKey(),
  attempts: integer("attempts").notNull(),
  windowStart: integer("window_start").notNull(),
});
