import path from "node:path";
import { Command } from "commander";
import { newRunId } from "./clock";
import { ConfigError, loadConfig, type SidecarConfig } from "./config";
import { SignedSender } from "./delivery/signed-sender";
import { errorText, log, registerSecrets } from "./log";
import { CursorFile } from "./pull/cursor-file";
import { fullRefresh } from "./pull/full-refresh";
import { parseTableName } from "./pull/pull-target";
import { pollTable } from "./pull/table-poller";
import { pgConfigOf } from "./sidecar";
import { connectChecked } from "./startup/postgres-check";
import { type StartupProblem, startupExitCode } from "./startup/problem";
import { movedStateProblem, stateDirProblem } from "./startup/state-dir";
import { workerProblem } from "./startup/worker-check";

/**
 * Database pulls for tables without CDC, through the same signed delivery:
 *   node sidecar/dist/db-pull.mjs poll --table public.orders --cursor-column updated_at
 *   node sidecar/dist/db-pull.mjs refresh --table public.countries
 * Run them from cron / a systemd timer; each run is one pass and exits.
 */
const program = new Command("db-pull").description("poll or fully refresh Postgres tables into Loading Dock");

/** What is wrong with the settings, found before a row is read; a run with a problem exits 2 (1 if only a server was unreachable). */
class StartRefused extends Error {
  constructor(readonly problems: StartupProblem[]) {
    super(problems.map((p) => p.message).join("; "));
  }
}

/** Settings, the sender, and a connected client, once the Worker would take this source's deliveries and Postgres let us in. */
async function setup(stateFile?: { explicit: string | undefined; name: (c: SidecarConfig) => string; legacy: string; setting: string }) {
  const config = loadConfig();
  registerSecrets([config.CDC_INGEST_SECRET, config.PGPASSWORD ?? ""]);
  const problems: StartupProblem[] = [];
  let file = "";
  if (stateFile) {
    file = path.resolve(stateFile.explicit ?? path.join(config.DOCK_STATE_DIR, stateFile.name(config)));
    const dir = stateDirProblem(path.dirname(file));
    if (dir) problems.push({ message: dir });
    const moved = stateFile.explicit ? null : movedStateProblem(file, stateFile.legacy, stateFile.setting);
    if (moved) problems.push({ message: moved });
  }
  const check = {
    workerUrl: config.WORKER_URL,
    secret: config.CDC_INGEST_SECRET,
    source: config.CDC_SOURCE,
    waitMs: config.CDC_STARTUP_WAIT_MS,
  };
  const [worker, db] = await Promise.all([workerProblem(check), connectChecked(pgConfigOf(config), config.CDC_STARTUP_WAIT_MS)]);
  if (worker) problems.push(worker);
  if ("message" in db) problems.push(db);
  else if (problems.length > 0) await db.end();
  if (problems.length > 0 || "message" in db) throw new StartRefused(problems);
  const sender = new SignedSender({
    url: `${config.WORKER_URL.replace(/\/$/, "")}/ingest/cdc`,
    secret: config.CDC_INGEST_SECRET,
    onRetry: (r) => log("warn", { event: "pull.delivery_retry", attempt: r.attempt, ms: r.waitMs, status: r.status, error: r.error }),
  });
  return { config, sender, db, file };
}

program
  .command("poll")
  .requiredOption("--table <schema.table>")
  .option("--cursor-column <column>", "timestamp column that every write updates", "updated_at")
  .option("--overlap-seconds <n>", "re-read this far behind the cursor", "300")
  .option("--page-rows <n>", "rows per page (one delivery)", "5000")
  .option("--cursor-file <path>", "where cursors are kept (default: poll-cursors-<CDC_SOURCE>.json in the state directory)")
  .action(async (o: { table: string; cursorColumn: string; overlapSeconds: string; pageRows: string; cursorFile?: string }) => {
    const { config, sender, db, file } = await setup({
      explicit: o.cursorFile,
      name: (c) => `poll-cursors-${c.CDC_SOURCE}.json`,
      legacy: "poll-cursors.json",
      setting: "--cursor-file",
    });
    const table = parseTableName(o.table);
    const cursors = new CursorFile(file);
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
    const { config, sender, db } = await setup();
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
  if (err instanceof StartRefused) {
    for (const p of err.problems) log("error", { event: "pull.start_refused", error: p.message });
    process.exit(startupExitCode(err.problems));
  }
  if (err instanceof ConfigError) {
    log("error", { event: "pull.config_invalid", error: errorText(err) });
    process.exit(2);
  }
  log("error", { event: "pull.failed", error: errorText(err) });
  process.exit(1);
});
