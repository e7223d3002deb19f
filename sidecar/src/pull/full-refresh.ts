import type { DeliveryBody } from "../delivery/signed-sender";
import type pg from "pg";
import { streamName } from "../cdc/stream-name";
import { availableParallelism } from "node:os";
import { deliveryBody, partHeads } from "../delivery/bundle-pack";
import { quoteIdent } from "../replication/sql-quote";
import { copyOut } from "./copy-out";
import { ParallelCopyEncoder } from "./parallel-copy-encoder";
import { describeTable, qualified } from "./pull-target";

export interface RefreshOptions {
  source: string;
  table: { schema: string; name: string };
  runId: string;
  /** Records per delivery (each delivery holds several ≤110 KB parts). */
  batchRecords: number;
  /** Deliveries outstanding at once beyond the batches being encoded; reading waits beyond that. Default 2. */
  inFlight?: number;
  /** Threads encoding rows (see ParallelCopyEncoder). Default: one per spare core, at most 4. */
  threads?: number;
  deliver: (messageId: string, body: DeliveryBody, records: number) => Promise<void>;
}

/**
 * A full refresh of one table: `COPY (SELECT …) TO STDOUT` in one REPEATABLE READ transaction,
 * streamed into snapshot parts (`snapshot: {run_id, part}`, pattern `full_refresh`, op
 * `snapshot`). Rows are encoded on worker threads while this one reads; reading pauses while
 * enough batches are being encoded or delivered, so memory stays at a few batches. Returns the
 * number of parts and records, which a manifest needs.
 */
export async function fullRefresh(db: pg.Client, opts: RefreshOptions): Promise<{ parts: number; records: number }> {
  const script = ParallelCopyEncoder.script(); // read (or bundled) while the transaction opens
  script.catch(() => {}); // a failure is thrown below, where it is awaited
  await db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const outstanding = new Set<Promise<void>>();
  let encoder: ParallelCopyEncoder | null = null;
  let failed: Error | null = null;
  try {
    const t = await describeTable(db, opts.table);
    const stream = streamName(t.schema, t.name);
    const ctidFirst = t.primaryKey.length === 0;
    // In heap order, as pg_dump reads: ordering by the key would walk the index and visit the heap
    // at random on a table that is not clustered, for no gain (a snapshot's parts have no order).
    const sql = `COPY (SELECT ${ctidFirst ? "ctid::text, " : ""}${t.columns.map(quoteIdent).join(", ")} FROM ${qualified(t)}) TO STDOUT`;
    let parts = 0;
    let total = 0;
    const threads = opts.threads ?? defaultThreads();
    const encoding = await ParallelCopyEncoder.start(
      {
        source: opts.source,
        stream,
        runId: opts.runId,
        columns: t.columns,
        keyIndexes: t.primaryKey.map((c) => t.columns.indexOf(c)),
        ctidFirst,
      },
      threads,
      opts.batchRecords,
      threads + (opts.inFlight ?? 2),
      (records, rows) => {
        const head = {
          source: opts.source,
          stream,
          pattern: "full_refresh" as const,
          received_at: new Date().toISOString(),
          run_id: opts.runId,
          snapshot: { run_id: opts.runId, part: parts },
        };
        const groups = records.groups(partHeads(head));
        const first = parts;
        parts += groups.length;
        total += rows;
        const p = opts
          .deliver(`${opts.runId}-part-${first}`, deliveryBody(groups), rows)
          .catch((err: Error) => {
            failed ??= err;
          })
          .finally(() => {
            outstanding.delete(p);
            encoding.recycle(records);
          });
        outstanding.add(p);
      },
      script,
    );
    encoder = encoding;
    await copyOut(db, sql, (chunk) => {
      if (failed) return; // the rest is read and dropped; the refresh fails below
      return encoding.push(chunk);
    });
    await encoding.end();
    if (failed) throw failed;
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
      records: total,
      received_at: new Date().toISOString(),
    };
    await opts.deliver(`${opts.runId}-manifest`, JSON.stringify({ bundles: [], manifests: [manifest] }), 0);
    return { parts, records: total };
  } catch (err) {
    await Promise.allSettled(outstanding);
    await db.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    await encoder?.close();
  }
}

/** Encoding threads beside the one reading the table: one per spare core, at most 4. */
function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}
