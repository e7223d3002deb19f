import { type DockMeta, envelopeLine, type Op } from "../../../src/envelope/envelope";
import { formatLsn } from "../lsn";
import { type TupleData, UNCHANGED_TOAST } from "../pgoutput/messages";
import type { OutRecord } from "../delivery/bundle-pack";
import { dockIdSync } from "./dock-id";
import type { RelationInfo } from "./relations";

/** The transaction a change belongs to, known from its Begin message. */
export interface TxContext {
  xid: number;
  commitLsn: bigint;
  /** formatLsn(commitLsn), computed once per transaction. */
  commitLsnText: string;
  commitTime: string;
}

interface RowText {
  json: string;
  unchanged: string[];
}

/**
 * The row as a JSON object of the text values Postgres sent (null for NULL), in column order.
 * Unchanged TOASTed columns are left out of the object and named in `unchanged`; with
 * `onlyKey`, only the identity columns (what a 'K' old tuple really carries).
 */
export function rowText(rel: RelationInfo, tuple: TupleData, onlyKey = false): RowText {
  const parts: string[] = [];
  const unchanged: string[] = [];
  const n = onlyKey ? rel.keyIndexes.length : tuple.length;
  for (let j = 0; j < n; j++) {
    const i = onlyKey ? (rel.keyIndexes[j] as number) : j;
    const v = tuple[i];
    const col = rel.columns[i];
    if (!col) throw new Error(`tuple of ${rel.stream} has more columns than its Relation message`);
    if (v === UNCHANGED_TOAST) unchanged.push(col.name);
    else parts.push(`${rel.columnKeys[i]}${v === null || v === undefined ? "null" : JSON.stringify(v)}`);
  }
  return { json: `{${parts.join(",")}}`, unchanged };
}

/**
 * The record key from the identity columns: the value itself for a one-column key, else a JSON
 * array of the text values (`["42","eu"]`). Empty for a table without identity columns.
 */
export function keyOf(rel: RelationInfo, tuple: TupleData): string {
  const ks = rel.keyIndexes;
  if (ks.length === 1) {
    const v = tuple[ks[0] as number];
    if (typeof v === "string") return v;
  }
  if (ks.length === 0) return "";
  return JSON.stringify(ks.map((i) => (typeof tuple[i] === "string" ? tuple[i] : null)));
}

function rowObject(rel: RelationInfo, tuple: TupleData, onlyKey: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  const indexes = onlyKey ? rel.keyIndexes : [...tuple.keys()];
  for (const i of indexes) {
    const v = tuple[i];
    const col = rel.columns[i];
    if (col && v !== UNCHANGED_TOAST) out[col.name] = v ?? null;
  }
  return out;
}

/** Builds envelope records for changes; one instance per replication session. */
export class ChangeRecordBuilder {
  private lastLsn = -1n;
  private repeat = 0;

  constructor(
    private readonly source: string,
    private readonly runId: string,
    private readonly receivedAt: () => string,
    private readonly pattern: "cdc" | "poll" | "full_refresh" = "cdc",
  ) {}

  /** Called at Begin: versions are made unique within a transaction, deterministically. */
  resetTransaction(): void {
    this.lastLsn = -1n;
    this.repeat = 0;
  }

  /** The change's LSN; a repeated LSN (a multi-insert record carries many rows) gets `#n`. */
  private version(lsnText: string, lsn: bigint): string {
    if (lsn === this.lastLsn) this.repeat++;
    else {
      this.lastLsn = lsn;
      this.repeat = 0;
    }
    return this.repeat === 0 ? lsnText : `${lsnText}#${this.repeat}`;
  }

  build(
    rel: RelationInfo,
    op: Op,
    lsn: bigint,
    tx: TxContext,
    row: { tuple: TupleData; onlyKey?: boolean },
    old?: { tuple: TupleData; kind: "K" | "O" } | null,
  ): OutRecord {
    const { json, unchanged } = rowText(rel, row.tuple, row.onlyKey);
    const key = keyOf(rel, row.tuple);
    const lsnText = formatLsn(lsn);
    const version = this.version(lsnText, lsn);
    const id = dockIdSync(this.source, rel.stream, key, version);
    // One flat object in the envelope's field order, extras after the fixed fields: the same
    // line envelopeLine makes from `extra`, without its object rest/spread (3x cheaper per change).
    const meta: Record<string, unknown> = {
      id,
      source: this.source,
      stream: rel.stream,
      pattern: this.pattern,
      key,
      version,
      op,
      received_at: this.receivedAt(),
      run_id: this.runId,
      lsn: lsnText,
      commit_lsn: tx.commitLsnText,
      xid: tx.xid,
      commit_time: tx.commitTime,
    };
    if (row.onlyKey) meta.old_tuple = "key";
    if (unchanged.length > 0) meta.unchanged_toast = unchanged;
    if (old) {
      meta.old_tuple = old.kind === "K" ? "key" : "full";
      meta.old = rowObject(rel, old.tuple, old.kind === "K");
    }
    return { stream: rel.stream, id, line: envelopeLine(meta as unknown as DockMeta, { json }) };
  }

  /** TRUNCATE of one table: a delete of every row, as one record with an empty key. */
  truncate(rel: RelationInfo, lsn: bigint, tx: TxContext, flags: { cascade: boolean; restartIdentity: boolean }): OutRecord {
    const lsnText = formatLsn(lsn);
    const extra = {
      lsn: lsnText,
      commit_lsn: tx.commitLsnText,
      xid: tx.xid,
      commit_time: tx.commitTime,
      truncate: true,
      cascade: flags.cascade,
      restart_identity: flags.restartIdentity,
    };
    return this.record(rel.stream, "", this.version(lsnText, lsn), "delete", extra, "{}");
  }

  /** One record per schema version of a table, on `<schema>.<table>._schema`, keyed by the table. */
  schema(rel: RelationInfo, schemaStream: string, lsn: bigint): OutRecord {
    const data = JSON.stringify({
      relation_id: rel.relationId,
      schema: rel.schema,
      table: rel.name,
      replica_identity: rel.replicaIdentity,
      columns: rel.columns.map((c) => ({ name: c.name, type_oid: c.typeOid, type_mod: c.typeMod, key: c.isKey })),
    });
    const version = dockIdSync("", "", "", data).slice(0, 16);
    return this.record(schemaStream, `${rel.schema}.${rel.name}`, version, "event", { lsn: formatLsn(lsn) }, data);
  }

  record(stream: string, key: string, version: string, op: Op, extra: Record<string, unknown>, json: string): OutRecord {
    const id = dockIdSync(this.source, stream, key, version);
    const meta: DockMeta = {
      id,
      source: this.source,
      stream,
      pattern: this.pattern,
      key,
      version,
      op,
      received_at: this.receivedAt(),
      run_id: this.runId,
      // `extra` may hold arrays and objects of strings (unchanged_toast, old): JSON.stringify keeps them exact.
      extra: extra as DockMeta["extra"],
    };
    return { stream, id, line: envelopeLine(meta, { json }) };
  }
}
