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
 * `primaryKeys` (schema.table → column names) supplies the key for REPLICA IDENTITY FULL tables,
 * where the server flags every column as identity.
 */
export class RelationCache {
  private readonly byId = new Map<number, RelationInfo>();
  constructor(private readonly primaryKeys: Map<string, string[]> = new Map()) {}

  set(msg: RelationMessage): RelationInfo {
    const info: RelationInfo = {
      relationId: msg.relationId,
      schema: msg.schema,
      name: msg.name,
      stream: streamName(msg.schema, msg.name),
      replicaIdentity: msg.replicaIdentity,
      columns: msg.columns,
      keyIndexes: keyIndexes(msg, this.primaryKeys.get(`${msg.schema}.${msg.name}`)),
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
