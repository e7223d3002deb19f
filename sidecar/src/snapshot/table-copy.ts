import type pg from "pg";
import { quoteIdent } from "../replication/sql-quote";

export interface SnapshotTable {
  schema: string;
  name: string;
  columns: string[];
  /** The primary key in index order (what an older state file's `after` holds). */
  primaryKey: string[];
  /**
   * The record key's columns, in the order changes carry them: the replica identity's. pgoutput
   * flags the identity columns (the primary key with REPLICA IDENTITY DEFAULT, the index's with
   * USING INDEX) in column order, and a delete carries only those; with FULL the key is the primary
   * key in index order (cdc/relations.ts). Empty: no unique key, the table is read by a cursor.
   */
  key: string[];
  /** The same columns in index order: the copy pages by them, so the index serves every chunk. */
  pageBy: string[];
}

/** Every value as the text Postgres sent: no parsing into JS numbers or dates. */
const asText = { getTypeParser: () => (value: string) => value };

const indexColumns = (which: string, order: "k.ord" | "a.attnum") => `COALESCE((SELECT array_agg(a.attname::text ORDER BY ${order})
               FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.${which}), '{}')`;

/** The publication's tables with their columns and keys, as the current transaction sees them. */
export async function publicationTables(db: pg.Client, publication: string): Promise<SnapshotTable[]> {
  const res = await db.query(
    `SELECT pt.schemaname, pt.tablename, c.relreplident::text AS ident,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            ${indexColumns("indisprimary", "k.ord")} AS pk,
            ${indexColumns("indisprimary", "a.attnum")} AS pk_by_column,
            ${indexColumns("indisreplident", "k.ord")} AS ri,
            ${indexColumns("indisreplident", "a.attnum")} AS ri_by_column
       FROM pg_publication_tables pt
       JOIN pg_namespace n ON n.nspname = pt.schemaname
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
      WHERE pt.pubname = $1
      ORDER BY 1, 2`,
    [publication],
  );
  type Row = {
    schemaname: string;
    tablename: string;
    ident: string;
    columns: string[];
    pk: string[];
    pk_by_column: string[];
    ri: string[];
    ri_by_column: string[];
  };
  return (res.rows as Row[]).map((r) => {
    const t = { schema: r.schemaname, name: r.tablename, columns: r.columns, primaryKey: r.pk };
    // USING INDEX: its columns are unique and NOT NULL (Postgres requires it), so they page like a key.
    if (r.ident === "i" && r.ri.length > 0) return { ...t, key: r.ri_by_column, pageBy: r.ri };
    if (r.ident === "f") return { ...t, key: r.pk, pageBy: r.pk };
    return { ...t, key: r.pk_by_column, pageBy: r.pk };
  });
}

/**
 * One chunk of rows after `after` in `pageBy` order (keyset pagination), values as text.
 * Tables without a key are read whole by a cursor in one pass (not resumable).
 */
export async function readChunk(db: pg.Client, t: SnapshotTable, after: string[] | null, limit: number): Promise<(string | null)[][]> {
  const table = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
  const cols = t.columns.map(quoteIdent).join(", ");
  const pk = t.pageBy.map(quoteIdent).join(", ");
  const where = after ? `WHERE (${pk}) > (${after.map((_, i) => `$${i + 1}`).join(", ")})` : "";
  const res = await db.query({
    text: `SELECT ${cols} FROM ${table} ${where} ORDER BY ${pk} LIMIT ${Math.floor(limit)}`,
    values: after ?? [],
    rowMode: "array",
    types: asText,
  });
  return res.rows as (string | null)[][];
}

export async function openCursor(db: pg.Client, t: SnapshotTable, name: string): Promise<void> {
  const table = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
  // ctid first: without a primary key it is the only thing telling two equal rows apart in one snapshot.
  await db.query(
    `DECLARE ${quoteIdent(name)} NO SCROLL CURSOR FOR SELECT ctid::text, ${t.columns.map(quoteIdent).join(", ")} FROM ${table}`,
  );
}

export async function fetchCursor(db: pg.Client, name: string, limit: number): Promise<(string | null)[][]> {
  const res = await db.query({ text: `FETCH ${Math.floor(limit)} FROM ${quoteIdent(name)}`, rowMode: "array", types: asText });
  return res.rows as (string | null)[][];
}
