import type pg from "pg";
import { quoteIdent } from "../replication/sql-quote";

export interface PullTable {
  schema: string;
  name: string;
  columns: string[];
  primaryKey: string[];
}

export function qualified(t: { schema: string; name: string }): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}

export function parseTableName(text: string): { schema: string; name: string } {
  const dot = text.indexOf(".");
  return dot < 0 ? { schema: "public", name: text } : { schema: text.slice(0, dot), name: text.slice(dot + 1) };
}

/** Columns (in order) and primary key of one table; a clear error if it does not exist. */
export async function describeTable(db: pg.Client, table: { schema: string; name: string }): Promise<PullTable> {
  const res = await db.query(
    `SELECT (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
               FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary), '{}') AS pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [table.schema, table.name],
  );
  const row = res.rows[0] as { columns: string[]; pk: string[] } | undefined;
  if (!row) throw new Error(`table ${table.schema}.${table.name} does not exist`);
  return { ...table, columns: row.columns, primaryKey: row.pk };
}

/** The record key: one primary-key value as is, several as a JSON array of text. */
export function keyText(values: (string | null)[]): string {
  if (values.length === 1 && typeof values[0] === "string") return values[0];
  return JSON.stringify(values);
}

export function rowJson(columns: string[], values: (string | null)[]): string {
  const parts: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    const v = values[i];
    parts.push(`${JSON.stringify(columns[i])}:${v === null || v === undefined ? "null" : JSON.stringify(v)}`);
  }
  return `{${parts.join(",")}}`;
}
