import { type DockMeta, envelopeLine, type Op } from "../../../src/envelope/envelope";
import { formatLsn } from "../lsn";
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

/**
 * Builds envelope records as strings for what is not a row change (truncates, schema versions) and
 * for snapshot, poll and full-refresh rows. Row changes are encoded by ChangeEncoder.
 */
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
