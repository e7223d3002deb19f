import type { OutRecord } from "../delivery/bundle-pack";
import { formatLsn } from "../lsn";
import { decodePgoutput, pgTimeToIso } from "../pgoutput/decode";
import type { ChangeEncoder, RecordsSink } from "./change-encoder";
import type { ChangeRecordBuilder, TxContext } from "./change-records";
import type { RelationCache } from "./relations";
import { streamName } from "./stream-name";

/** Where records go: encoded ones through RecordsSink, string-built ones and commits here. */
export interface ChangeSink extends RecordsSink {
  /** A record built as a string (schema versions, truncates). */
  add(record: OutRecord): void;
  commit(endLsn: bigint): void;
}

export interface HandlerStats {
  changes: number;
  transactions: number;
  heartbeats: number;
  lastCommitEnd: bigint;
  lastCommitTime: string | null;
  /** WAL position of the last Begin, Commit or other non-row message. */
  receivedLsn: bigint;
}

const INSERT = 0x49;
const UPDATE = 0x55;
const DELETE = 0x44;

/**
 * Applies pgoutput messages in order: tracks the open transaction, keeps relations current, and
 * turns each change into a record for the sink. Row changes (the bulk) go to the encoder as bytes;
 * the rest is decoded.
 */
export class ChangeHandler {
  private tx: TxContext | null = null;
  readonly stats: HandlerStats = { changes: 0, transactions: 0, heartbeats: 0, lastCommitEnd: 0n, lastCommitTime: null, receivedLsn: 0n };
  private readonly relationOf: (id: number) => ReturnType<RelationCache["get"]>;

  constructor(
    private readonly relations: RelationCache,
    private readonly encoder: ChangeEncoder,
    private readonly builder: ChangeRecordBuilder,
    private readonly sink: ChangeSink,
    private readonly heartbeatPrefix: string,
  ) {
    this.relationOf = (id) => this.relations.get(id);
  }

  get inTransaction(): boolean {
    return this.tx !== null;
  }

  /** One pgoutput message, `msg[offset…]`, sent at WAL position `hi/lo` (the two halves of the LSN). */
  handle(msg: Buffer, offset: number, hi: number, lo: number): void {
    const tag = msg[offset];
    if (tag === INSERT || tag === UPDATE || tag === DELETE) {
      this.encoder.encode(msg, offset, hi, lo, this.relationOf, this.sink);
      this.stats.changes++;
      return;
    }
    const lsn = (BigInt(hi) << 32n) | BigInt(lo);
    if (lsn > this.stats.receivedLsn) this.stats.receivedLsn = lsn;
    const m = decodePgoutput(msg.subarray(offset));
    switch (m.tag) {
      case "begin":
        if (this.tx) throw new Error(`Begin at ${formatLsn(lsn)} inside an open transaction`);
        this.tx = { xid: m.xid, commitLsn: m.finalLsn, commitLsnText: formatLsn(m.finalLsn), commitTime: pgTimeToIso(m.commitTime) };
        this.builder.resetTransaction();
        this.encoder.beginTransaction(this.tx);
        return;
      case "commit":
        if (!this.tx) throw new Error(`Commit at ${formatLsn(lsn)} without a Begin`);
        this.tx = null;
        this.encoder.endTransaction();
        this.stats.transactions++;
        this.stats.lastCommitEnd = m.endLsn;
        this.stats.lastCommitTime = pgTimeToIso(m.commitTime);
        this.sink.commit(m.endLsn);
        return;
      case "relation": {
        const rel = this.relations.set(m);
        this.sink.add(this.builder.schema(rel, streamName(m.schema, m.name, "._schema"), lsn));
        return;
      }
      case "truncate": {
        if (!this.tx) throw new Error(`change at ${formatLsn(lsn)} outside a transaction`);
        for (const id of m.relationIds) {
          this.sink.add(this.builder.truncate(this.relations.get(id), lsn, this.tx, m));
          this.stats.changes++;
        }
        return;
      }
      case "message":
        if (m.prefix === this.heartbeatPrefix) this.stats.heartbeats++;
        return;
      default:
        return;
    }
  }
}
