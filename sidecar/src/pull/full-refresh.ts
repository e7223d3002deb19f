import type pg from "pg";
import { ChangeRecordBuilder } from "../cdc/change-records";
import { streamName } from "../cdc/stream-name";
import { cachedIsoClock } from "../clock";
import type { OutRecord } from "../delivery/bundle-pack";
import { deliveryBody, packParts } from "../delivery/bundle-pack";
import { quoteIdent } from "../replication/sql-quote";
import { CopyLineSplitter, parseCopyTextLine } from "./copy-text";
import { copyOut } from "./copy-out";
import { describeTable, keyText, qualified, rowJson } from "./pull-target";

export interface RefreshOptions {
  source: string;
  table: { schema: string; name: string };
  runId: string;
  /** Records per delivery (each delivery holds several ≤110 KB parts). */
  batchRecords: number;
  deliver: (messageId: string, body: string, records: number) => Promise<void>;
}

/**
 * A full refresh of one table: `COPY (SELECT …) TO STDOUT` in one REPEATABLE READ transaction,
 * streamed into snapshot parts (`snapshot: {run_id, part}`, pattern `full_refresh`, op
 * `snapshot`). Reading pauses while a delivery is outstanding, so memory stays at one batch.
 * Returns the number of parts and records, which a manifest needs.
 */
export async function fullRefresh(db: pg.Client, opts: RefreshOptions): Promise<{ parts: number; records: number }> {
  await db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    const t = await describeTable(db, opts.table);
    const stream = streamName(t.schema, t.name);
    const builder = new ChangeRecordBuilder(opts.source, opts.runId, cachedIsoClock(), "full_refresh");
    const pkIdx = t.primaryKey.map((c) => t.columns.indexOf(c));
    const order = t.primaryKey.length > 0 ? ` ORDER BY ${t.primaryKey.map(quoteIdent).join(", ")}` : "";
    const ctid = t.primaryKey.length === 0 ? "ctid::text, " : "";
    const sql = `COPY (SELECT ${ctid}${t.columns.map(quoteIdent).join(", ")} FROM ${qualified(t)}${order}) TO STDOUT`;
    const splitter = new CopyLineSplitter();
    let batch: OutRecord[] = [];
    let parts = 0;
    let records = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const head = {
        source: opts.source,
        stream,
        pattern: "full_refresh" as const,
        received_at: new Date().toISOString(),
        run_id: opts.runId,
        snapshot: { run_id: opts.runId, part: parts },
      };
      const texts = packParts(head, batch);
      const n = batch.length;
      batch = [];
      // Numbered before the await: the next chunk may already be flushing.
      const first = parts;
      parts += texts.length;
      records += n;
      await opts.deliver(`${opts.runId}-part-${first}`, deliveryBody(texts), n);
    };
    const take = (lines: string[]) => {
      for (const line of lines) {
        const fields = parseCopyTextLine(line);
        const values = ctid ? fields.slice(1) : fields;
        const key = ctid ? `ctid:${fields[0]}` : keyText(pkIdx.map((i) => values[i] ?? null));
        batch.push(builder.record(stream, key, opts.runId, "snapshot", {}, rowJson(t.columns, values)));
      }
    };
    await copyOut(db, sql, (chunk) => {
      take(splitter.push(chunk));
      if (batch.length >= opts.batchRecords) return flush();
    });
    take(splitter.end());
    await flush();
    await db.query("COMMIT");
    // Last, the manifest: the Worker writes _manifest.json once every part is in R2, so a
    // snapshot without one is visibly incomplete.
    const manifest = {
      kind: "manifest",
      v: 1,
      source: opts.source,
      stream,
      run_id: opts.runId,
      parts,
      records,
      received_at: new Date().toISOString(),
    };
    await opts.deliver(`${opts.runId}-manifest`, JSON.stringify({ bundles: [], manifests: [manifest] }), 0);
    return { parts, records };
  } catch (err) {
    await db.query("ROLLBACK").catch(() => {});
    throw err;
  }
}
