import { Command } from "commander";
import pg from "pg";
import { newRunId } from "./clock";
import { loadConfig } from "./config";
import { SignedSender } from "./delivery/signed-sender";
import { errorText, log, registerSecrets } from "./log";
import { CursorFile } from "./pull/cursor-file";
import { fullRefresh } from "./pull/full-refresh";
import { parseTableName } from "./pull/pull-target";
import { pollTable } from "./pull/table-poller";
import { pgConfigOf } from "./sidecar";

/**
 * Database pulls for tables without CDC, through the same signed delivery:
 *   tsx sidecar/src/db-pull.ts poll --table public.orders --cursor-column updated_at
 *   tsx sidecar/src/db-pull.ts refresh --table public.countries
 * Run them from cron / a systemd timer; each run is one pass and exits.
 */
const program = new Command("db-pull").description("poll or fully refresh Postgres tables into Loading Dock");

function setup() {
  const config = loadConfig();
  registerSecrets([config.CDC_INGEST_SECRET, config.PGPASSWORD ?? ""]);
  const sender = new SignedSender({
    url: `${config.WORKER_URL.replace(/\/$/, "")}/ingest/cdc`,
    secret: config.CDC_INGEST_SECRET,
    onRetry: (r) => log("warn", { event: "pull.delivery_retry", attempt: r.attempt, ms: r.waitMs, status: r.status, error: r.error }),
  });
  return { config, sender };
}

program
  .command("poll")
  .requiredOption("--table <schema.table>")
  .option("--cursor-column <column>", "timestamp column that every write updates", "updated_at")
  .option("--overlap-seconds <n>", "re-read this far behind the cursor", "300")
  .option("--page-rows <n>", "rows per page (one delivery)", "5000")
  .option("--cursor-file <path>", "where cursors are kept", "./poll-cursors.json")
  .action(async (o: { table: string; cursorColumn: string; overlapSeconds: string; pageRows: string; cursorFile: string }) => {
    const { config, sender } = setup();
    const db = new pg.Client(pgConfigOf(config));
    await db.connect();
    const table = parseTableName(o.table);
    const cursors = new CursorFile(o.cursorFile);
    const runId = newRunId("poll");
    const started = Date.now();
    try {
      const out = await pollTable(
        db,
        {
          source: config.CDC_SOURCE,
          table,
          cursorColumn: o.cursorColumn,
          overlapSeconds: Number(o.overlapSeconds),
          pageRows: Number(o.pageRows),
          runId,
          deliver: (id, body) => sender.send(id, body),
          saveCursor: (c) => cursors.set(o.table, c),
        },
        cursors.get(o.table),
      );
      log("info", {
        event: "pull.polled",
        source: config.CDC_SOURCE,
        stream: o.table,
        pattern: "poll",
        run_id: runId,
        records: out.records,
        ms: Date.now() - started,
        cursor: out.cursor,
      });
    } finally {
      await db.end();
    }
  });

program
  .command("refresh")
  .requiredOption("--table <schema.table>")
  .option("--batch-records <n>", "records per delivery", "5000")
  .action(async (o: { table: string; batchRecords: string }) => {
    const { config, sender } = setup();
    const db = new pg.Client(pgConfigOf(config));
    await db.connect();
    const runId = newRunId("refresh");
    const started = Date.now();
    try {
      const out = await fullRefresh(db, {
        source: config.CDC_SOURCE,
        table: parseTableName(o.table),
        runId,
        batchRecords: Number(o.batchRecords),
        deliver: (id, body) => sender.send(id, body),
      });
      log("info", {
        event: "pull.refreshed",
        source: config.CDC_SOURCE,
        stream: o.table,
        pattern: "full_refresh",
        run_id: runId,
        records: out.records,
        parts: out.parts,
        ms: Date.now() - started,
      });
    } finally {
      await db.end();
    }
  });

program.parseAsync().catch((err) => {
  log("error", { event: "pull.failed", error: errorText(err) });
  process.exit(1);
});
