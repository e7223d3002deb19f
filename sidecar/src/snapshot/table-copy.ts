import type pg from "pg";
import { quoteIdent } from "../replication/sql-quote";

export interface SnapshotTable {
  schema: string;
  name: string;
  columns: string[];
  primaryKey: string[];
}

/** Every value as the text Postgres sent: no parsing into JS numbers or dates. */
const asText = { getTypeParser: () => (value: string) => value };

/** The publication's tables with their columns and primary keys, as the current transaction sees them. */
export async function publicationTables(db: pg.Client, publication: string): Promise<SnapshotTable[]> {
  const res = await db.query(
    `SELECT pt.schemaname, pt.tablename,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
               FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary), '{}') AS pk
       FROM pg_publication_tables pt
       JOIN pg_namespace n ON n.nspname = pt.schemaname
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
      WHERE pt.pubname = $1
      ORDER BY 1, 2`,
    [publication],
  );
  return (res.rows as { schemaname: string; tablename: string; columns: string[]; pk: string[] }[]).map((r) => ({
    schema: r.schemaname,
    name: r.tablename,
    columns: r.columns,
    primaryKey: r.pk,
  }));
}

/**
 * One chunk of rows after `after` in primary-key order (keyset pagination), values as text.
 * Tables without a primary key are read whole by a cursor in one pass (not resumable).
 */
export async function readChunk(db: pg.Client, t: SnapshotTable, after: string[] | null, limit: number): Promise<(string | null)[][]> {
  const table = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
  const cols = t.columns.map(quoteIdent).join(", ");
  const pk = t.primaryKey.map(quoteIdent).join(", ");
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
