import type { DeliveryBody } from "../delivery/signed-sender";
import type pg from "pg";
import { ChangeRecordBuilder } from "../cdc/change-records";
import { streamName } from "../cdc/stream-name";
import { cachedIsoClock } from "../clock";
import { deliveryBody, packStream } from "../delivery/bundle-pack";
import { quoteIdent } from "../replication/sql-quote";
import { describeTable, keyText, qualified, rowJson } from "./pull-target";
import { rowVersion } from "./row-version";

export interface PollOptions {
  source: string;
  table: { schema: string; name: string };
  cursorColumn: string;
  overlapSeconds: number;
  pageRows: number;
  runId: string;
  /** Delivers one page; resolves on 2xx only. */
  deliver: (messageId: string, body: DeliveryBody, records: number) => Promise<void>;
  /** Persists the cursor after a delivered page. */
  saveCursor: (cursor: string) => void;
}

const asText = { getTypeParser: () => (value: string) => value };

/**
 * One incremental pull of a table without CDC: rows with `cursor >= saved - overlap`, in
 * `(cursor, primary key)` order, keyset-paged so rows sharing a timestamp are neither skipped
 * nor repeated within a run. The cursor moves only after a page is delivered, never backwards.
 * Version = the cursor value with a digest of the row (row-version.ts): rows seen again through the
 * overlap get the same `_dock.id`, two states sharing one cursor value get two.
 * Deleted rows are invisible to polling: use CDC or a full refresh for tables that delete.
 */
export async function pollTable(
  db: pg.Client,
  opts: PollOptions,
  savedCursor: string | null,
): Promise<{ cursor: string | null; records: number; pages: number }> {
  await db.query("SET TimeZone = 'UTC'");
  const t = await describeTable(db, opts.table);
  if (t.primaryKey.length === 0) throw new Error(`${t.schema}.${t.name} has no primary key: polling needs one to page by`);
  if (!t.columns.includes(opts.cursorColumn)) throw new Error(`${t.schema}.${t.name} has no column ${opts.cursorColumn}`);
  const stream = streamName(t.schema, t.name);
  const builder = new ChangeRecordBuilder(opts.source, opts.runId, cachedIsoClock(), "poll");
  const cols = t.columns.map(quoteIdent).join(", ");
  const cur = quoteIdent(opts.cursorColumn);
  const pk = t.primaryKey.map(quoteIdent);
  const pkIdx = t.primaryKey.map((c) => t.columns.indexOf(c));
  const curIdx = t.columns.length;
  let after: (string | null)[] | null = null;
  let cursor = savedCursor;
  let records = 0;
  let pages = 0;
  for (;;) {
    const params: unknown[] = [];
    let where = "";
    if (after) {
      params.push(...after);
      where = `WHERE (${[cur, ...pk].join(", ")}) > (${after.map((_, i) => `$${i + 1}`).join(", ")})`;
    } else if (savedCursor !== null) {
      params.push(savedCursor, opts.overlapSeconds);
      where = `WHERE ${cur} >= $1::timestamptz - make_interval(secs => $2)`;
    }
    const res = await db.query({
      text: `SELECT ${cols}, ${cur}::text AS __dock_cursor FROM ${qualified(t)} ${where} ORDER BY ${[cur, ...pk].join(", ")} LIMIT ${Math.floor(opts.pageRows)}`,
      values: params,
      rowMode: "array",
      types: asText,
    });
    const rows = res.rows as (string | null)[][];
    if (rows.length === 0) break;
    const out = rows.map((row) => {
      const values = row.slice(0, curIdx);
      const json = rowJson(t.columns, values);
      const version = rowVersion(row[curIdx] ?? "", json);
      return builder.record(stream, keyText(pkIdx.map((i) => values[i] ?? null)), version, "upsert", {}, json);
    });
    const head = { source: opts.source, stream, pattern: "poll" as const, received_at: new Date().toISOString(), run_id: opts.runId };
    await opts.deliver(`${opts.runId}-${pages}`, deliveryBody(packStream(head, out)), out.length);
    const last = rows[rows.length - 1] as (string | null)[];
    after = [last[curIdx] ?? null, ...pkIdx.map((i) => last[i] ?? null)];
    const lastCursor = last[curIdx];
    if (lastCursor && (cursor === null || (await isLater(db, lastCursor, cursor)))) {
      cursor = lastCursor;
      opts.saveCursor(cursor);
    }
    records += rows.length;
    pages++;
    if (rows.length < opts.pageRows) break;
  }
  return { cursor, records, pages };
}

async function isLater(db: pg.Client, a: string, b: string): Promise<boolean> {
  const res = await db.query("SELECT $1::timestamptz > $2::timestamptz AS later", [a, b]);
  return (res.rows[0] as { later: boolean }).later;
}
