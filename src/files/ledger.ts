import type { FileSpec } from "./config";
import type { TextEncodingName } from "./text-encoding";

export type LedgerStatus = "parsing" | "parsed" | "failed" | "unparsed";

export interface LedgerRow {
  key: string;
  source: string;
  stream: string;
  name: string;
  format: string;
  sha256: string;
  size: number;
  origin: string;
  status: LedgerStatus;
  run_id: string;
  rows: number;
  bad_rows: number;
  bytes: number;
  parse_offset: number;
  parse_line: number;
  queued_offset: number;
  steps: number;
  state: string | null;
  error: string | null;
  landed_at: string;
  updated_at: string;
}

/** What the parse steps carry from one to the next, as JSON in `file_ledger.state`. */
export interface ParseState {
  spec: FileSpec;
  /** Field names from the header row, once read. */
  header?: string[];
  /** The encoding in use, once detected (`auto` resolves on the first step). */
  encoding?: TextEncodingName;
  delimiter?: string;
}

export interface NewLedgerRow {
  key: string;
  source: string;
  name: string;
  sha256: string;
  size: number;
  origin: string;
  spec: FileSpec;
  runId: string;
  landedAt: string;
}

/**
 * Inserts the ledger row and its run in one D1 batch, unless the source already has a file with
 * these bytes (then neither is written). True when inserted.
 */
export async function insertLedgerRow(db: D1Database, row: NewLedgerRow): Promise<boolean> {
  const status: LedgerStatus = row.spec.format ? "parsing" : "unparsed";
  const state: ParseState = { spec: row.spec };
  const unparsed = row.spec.format ? null : `no parser for ${row.name}; kept as sent at ${row.key}`;
  const [ledger] = await db.batch([
    db
      .prepare(
        `INSERT INTO file_ledger (key, source, stream, name, format, sha256, size, origin, status, run_id, queued_offset, state, error, landed_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, -1, ?11, ?12, ?13, ?13)
         ON CONFLICT(source, sha256) DO NOTHING`,
      )
      .bind(
        row.key,
        row.source,
        row.spec.stream,
        row.name,
        row.spec.format ?? "unknown",
        row.sha256,
        row.size,
        row.origin,
        status,
        row.runId,
        JSON.stringify(state),
        unparsed,
        row.landedAt,
      ),
    db
      .prepare(
        `INSERT INTO runs (id, source, stream, pattern, status, started_at, finished_at, cursor_from, error, state)
         SELECT ?1, ?2, ?3, 'file', ?4, ?5, ?6, '0', ?7, ?8
         WHERE EXISTS (SELECT 1 FROM file_ledger WHERE key = ?9 AND run_id = ?1)`,
      )
      .bind(
        row.runId,
        row.source,
        row.spec.stream,
        unparsed ? "failed" : "running",
        row.landedAt,
        unparsed ? row.landedAt : null,
        unparsed,
        JSON.stringify({ key: row.key }),
        row.key,
      ),
  ]);
  return (ledger?.meta.changes ?? 0) > 0;
}

export async function ledgerByKey(db: D1Database, key: string): Promise<LedgerRow | null> {
  return db.prepare("SELECT * FROM file_ledger WHERE key = ?").bind(key).first<LedgerRow>();
}

export async function ledgerBySha(db: D1Database, source: string, sha256: string): Promise<LedgerRow | null> {
  return db.prepare("SELECT * FROM file_ledger WHERE source = ? AND sha256 = ?").bind(source, sha256).first<LedgerRow>();
}

export async function markQueued(db: D1Database, key: string, offset: number): Promise<void> {
  await db.prepare("UPDATE file_ledger SET queued_offset = ?2 WHERE key = ?1 AND queued_offset < ?2").bind(key, offset).run();
}

export interface StepResult {
  key: string;
  runId: string;
  from: number;
  to: number;
  line: number;
  rows: number;
  badRows: number;
  bytes: number;
  steps: number;
  done: boolean;
  state: ParseState;
  now: string;
}

/**
 * Commits one parse step: the ledger moves from `from` to `to` only if it still stands at `from`
 * (a duplicate delivery of the same step loses the race and stops), and the run row gets the same
 * absolute totals, so repeating the statement changes nothing. Returns false when the step lost.
 */
export async function commitStep(db: D1Database, s: StepResult): Promise<boolean> {
  const status = s.done ? "parsed" : "parsing";
  const [ledger] = await db.batch([
    db
      .prepare(
        `UPDATE file_ledger SET parse_offset = ?3, parse_line = ?4, rows = ?5, bad_rows = ?6, bytes = ?7, steps = ?8,
           status = ?9, state = ?10, updated_at = ?11 WHERE key = ?1 AND parse_offset = ?2 AND status = 'parsing'`,
      )
      .bind(s.key, s.from, s.to, s.line, s.rows, s.badRows, s.bytes, s.steps, status, JSON.stringify(s.state), s.now),
    db
      .prepare(
        `UPDATE runs SET records = ?2, pages = ?3, cursor_to = ?4, status = ?5, finished_at = ?6, state = ?7
         WHERE id = ?1 AND EXISTS (SELECT 1 FROM file_ledger WHERE run_id = ?1 AND parse_offset = ?8 AND steps = ?3)`,
      )
      .bind(
        s.runId,
        s.rows + s.badRows,
        s.steps,
        String(s.to),
        s.done ? "succeeded" : "running",
        s.done ? s.now : null,
        JSON.stringify({ key: s.key, rows: s.rows, bad_rows: s.badRows, bytes: s.bytes }),
        s.to,
      ),
  ]);
  return (ledger?.meta.changes ?? 0) > 0;
}

export async function failFile(db: D1Database, row: LedgerRow, error: string, now: string): Promise<void> {
  await db.batch([
    db.prepare("UPDATE file_ledger SET status = 'failed', error = ?2, updated_at = ?3 WHERE key = ?1").bind(row.key, error, now),
    db.prepare("UPDATE runs SET status = 'failed', error = ?2, finished_at = ?3 WHERE id = ?1").bind(row.run_id, error, now),
  ]);
}
