/** pgoutput protocol version 1 messages, as decoded by decode.ts. */

/** An unchanged TOASTed column ('u'): Postgres did not send its value. */
export const UNCHANGED_TOAST: unique symbol = Symbol("unchanged-toast");
export type ColumnValue = string | null | typeof UNCHANGED_TOAST;
export type TupleData = ColumnValue[];

export interface RelationColumn {
  /** Part of the replica identity (LOGICALREP_IS_REPLICA_IDENTITY). */
  isKey: boolean;
  name: string;
  typeOid: number;
  typeMod: number;
}

export type PgoutputMessage =
  | { tag: "begin"; finalLsn: bigint; commitTime: bigint; xid: number }
  | { tag: "commit"; flags: number; commitLsn: bigint; endLsn: bigint; commitTime: bigint }
  | { tag: "origin"; lsn: bigint; name: string }
  | {
      tag: "relation";
      relationId: number;
      schema: string;
      name: string;
      /** 'd' default, 'n' nothing, 'f' full, 'i' index */
      replicaIdentity: string;
      columns: RelationColumn[];
    }
  | { tag: "type"; typeOid: number; schema: string; name: string }
  | { tag: "insert"; relationId: number; newTuple: TupleData }
  | {
      tag: "update";
      relationId: number;
      /** 'K' = only the identity columns of the old row, 'O' = the whole old row (REPLICA IDENTITY FULL). */
      oldKind: "K" | "O" | null;
      oldTuple: TupleData | null;
      newTuple: TupleData;
    }
  | { tag: "delete"; relationId: number; oldKind: "K" | "O"; oldTuple: TupleData }
  | { tag: "truncate"; cascade: boolean; restartIdentity: boolean; relationIds: number[] }
  | { tag: "message"; transactional: boolean; lsn: bigint; prefix: string; content: Buffer };
