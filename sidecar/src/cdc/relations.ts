import type { PgoutputMessage, RelationColumn } from "../pgoutput/messages";
import { streamName } from "./stream-name";

type RelationMessage = Extract<PgoutputMessage, { tag: "relation" }>;

export interface RelationInfo {
  relationId: number;
  schema: string;
  name: string;
  stream: string;
  replicaIdentity: string;
  columns: RelationColumn[];
  /** Indexes of the columns that make the record key. */
  keyIndexes: number[];
}

/**
 * The relations the server described, by OID. pgoutput sends a Relation message before the first
 * change of a table in a session and again after any schema change, so this is always current.
 * With REPLICA IDENTITY FULL the server flags every column as identity, so the key comes from the
 * table's primary key, read from the catalog each time such a Relation message arrives (whether
 * the table was in the publication at start-up or joined later): the message waits for
 * `primaryKeyRead` before `set`.
 */
export class RelationCache {
  private readonly byId = new Map<number, RelationInfo>();
  /** Primary keys read for FULL Relation messages not yet `set`, by relation OID. */
  private readonly readKeys = new Map<number, string[]>();

  /** Whether this Relation message must wait until its table's primary key has been read. */
  awaitsPrimaryKey(msg: RelationMessage): boolean {
    return msg.replicaIdentity === "f" && !this.readKeys.has(msg.relationId);
  }

  /** The primary-key columns of relation `relationId` (empty: it has none), for its next Relation message. */
  primaryKeyRead(relationId: number, columns: string[]): void {
    this.readKeys.set(relationId, columns);
  }

  set(msg: RelationMessage): RelationInfo {
    const primaryKey = this.readKeys.get(msg.relationId);
    this.readKeys.delete(msg.relationId);
    const info: RelationInfo = {
      relationId: msg.relationId,
      schema: msg.schema,
      name: msg.name,
      stream: streamName(msg.schema, msg.name),
      replicaIdentity: msg.replicaIdentity,
      columns: msg.columns,
      keyIndexes: keyIndexes(msg, primaryKey),
    };
    this.byId.set(msg.relationId, info);
    return info;
  }

  get(relationId: number): RelationInfo {
    const info = this.byId.get(relationId);
    if (!info) throw new Error(`change for relation ${relationId} before its Relation message`);
    return info;
  }
}

function keyIndexes(msg: RelationMessage, primaryKey: string[] | undefined): number[] {
  if (msg.replicaIdentity === "f" && primaryKey && primaryKey.length > 0) {
    const idx = primaryKey.map((name) => msg.columns.findIndex((c) => c.name === name));
    if (idx.every((i) => i >= 0)) return idx;
  }
  const flagged = msg.columns.flatMap((c, i) => (c.isKey ? [i] : []));
  return flagged;
}
