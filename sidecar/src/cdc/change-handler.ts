import { formatLsn } from "../lsn";
import { pgTimeToIso } from "../pgoutput/decode";
import type { PgoutputMessage } from "../pgoutput/messages";
import type { OutRecord } from "../delivery/bundle-pack";
import type { ChangeRecordBuilder, TxContext } from "./change-records";
import type { RelationCache } from "./relations";
import { streamName } from "./stream-name";

export interface ChangeSink {
  add(record: OutRecord): void;
  commit(endLsn: bigint): void;
}

export interface HandlerStats {
  changes: number;
  transactions: number;
  heartbeats: number;
  lastCommitEnd: bigint;
  lastCommitTime: string | null;
}

/**
 * Applies decoded pgoutput messages in order: tracks the open transaction, keeps relations
 * current, and turns each change into envelope records for the sink.
 */
export class ChangeHandler {
  private tx: TxContext | null = null;
  readonly stats: HandlerStats = { changes: 0, transactions: 0, heartbeats: 0, lastCommitEnd: 0n, lastCommitTime: null };

  constructor(
    private readonly relations: RelationCache,
    private readonly builder: ChangeRecordBuilder,
    private readonly sink: ChangeSink,
    private readonly heartbeatPrefix: string,
  ) {}

  get inTransaction(): boolean {
    return this.tx !== null;
  }

  handle(msg: PgoutputMessage, lsn: bigint): void {
    switch (msg.tag) {
      case "begin":
        if (this.tx) throw new Error(`Begin at ${formatLsn(lsn)} inside an open transaction`);
        this.tx = {
          xid: msg.xid,
          commitLsn: msg.finalLsn,
          commitLsnText: formatLsn(msg.finalLsn),
          commitTime: pgTimeToIso(msg.commitTime),
        };
        this.builder.resetTransaction();
        return;
      case "commit":
        if (!this.tx) throw new Error(`Commit at ${formatLsn(lsn)} without a Begin`);
        this.tx = null;
        this.stats.transactions++;
        this.stats.lastCommitEnd = msg.endLsn;
        this.stats.lastCommitTime = pgTimeToIso(msg.commitTime);
        this.sink.commit(msg.endLsn);
        return;
      case "relation": {
        const rel = this.relations.set(msg);
        this.sink.add(this.builder.schema(rel, streamName(msg.schema, msg.name, "._schema"), lsn));
        return;
      }
      case "insert": {
        const rel = this.relations.get(msg.relationId);
        this.sink.add(this.builder.build(rel, "insert", lsn, this.current(lsn), { tuple: msg.newTuple }));
        this.stats.changes++;
        return;
      }
      case "update": {
        const rel = this.relations.get(msg.relationId);
        const old = msg.oldTuple && msg.oldKind ? { tuple: msg.oldTuple, kind: msg.oldKind } : null;
        this.sink.add(this.builder.build(rel, "update", lsn, this.current(lsn), { tuple: msg.newTuple }, old));
        this.stats.changes++;
        return;
      }
      case "delete": {
        const rel = this.relations.get(msg.relationId);
        const row = { tuple: msg.oldTuple, onlyKey: msg.oldKind === "K" };
        this.sink.add(this.builder.build(rel, "delete", lsn, this.current(lsn), row));
        this.stats.changes++;
        return;
      }
      case "truncate": {
        const tx = this.current(lsn);
        for (const id of msg.relationIds) {
          this.sink.add(this.builder.truncate(this.relations.get(id), lsn, tx, msg));
          this.stats.changes++;
        }
        return;
      }
      case "message":
        if (msg.prefix === this.heartbeatPrefix) this.stats.heartbeats++;
        return;
      case "origin":
      case "type":
        return;
    }
  }

  private current(lsn: bigint): TxContext {
    if (!this.tx) throw new Error(`change at ${formatLsn(lsn)} outside a transaction`);
    return this.tx;
  }
}
