import { errorText, log } from "../lib/log";
import type { FilesEnv } from "./env";
import type { FileContext } from "./envelopes";
import type { FileParseJob } from "./jobs";
import { queueStep } from "./land";
import { commitStep, failFile, ledgerByKey, type ParseState } from "./ledger";
import { Sender } from "./sender";
import { FileUnreadable, type StepOutcome } from "./step";
import { textStep } from "./text-step";
import { WorkbookUnreadable } from "./xlsx";
import { xlsxStep } from "./xlsx-step";

/**
 * One parse step of a landed file (a JOBS message). Reads a window from `parse_offset`, sends its
 * complete rows to INGEST, moves the ledger on (only if no one else did), and queues the next step.
 */
export async function runParseStep(env: FilesEnv, job: FileParseJob): Promise<void> {
  const started = Date.now();
  const row = await ledgerByKey(env.DB, job.key);
  if (row?.status !== "parsing") return;
  if (job.offset !== row.parse_offset) {
    // A repeat of a step already committed. If its successor never reached JOBS, send it now.
    if (job.offset < row.parse_offset && row.queued_offset < row.parse_offset) await queueStep(env, row.key, row.parse_offset);
    return;
  }
  const state = JSON.parse(row.state ?? "{}") as ParseState;
  const ctx: FileContext = {
    source: row.source,
    name: row.name,
    key: row.key,
    sha256: row.sha256,
    runId: row.run_id,
    receivedAt: row.landed_at,
  };
  const sender = new Sender(env, ctx);
  let outcome: StepOutcome;
  try {
    outcome = row.format === "xlsx" ? await xlsxStep(env, row, sender) : await textStep(env, row, state, sender);
  } catch (err) {
    if (!(err instanceof FileUnreadable || err instanceof WorkbookUnreadable)) throw err;
    await failFile(env.DB, row, errorText(err), new Date().toISOString());
    log("error", {
      event: "file.failed",
      source: row.source,
      stream: row.stream,
      pattern: "file",
      run_id: row.run_id,
      error: errorText(err),
    });
    return;
  }
  await sender.flush();
  const committed = await commitStep(env.DB, {
    key: row.key,
    runId: row.run_id,
    from: row.parse_offset,
    to: outcome.to,
    line: outcome.line,
    rows: outcome.rows,
    badRows: outcome.badRows,
    bytes: row.format === "xlsx" ? row.size : outcome.to,
    steps: row.steps + 1,
    done: outcome.done,
    state,
    now: new Date().toISOString(),
  });
  log("info", {
    event: outcome.done ? "file.parsed" : "file.step",
    source: row.source,
    stream: row.stream,
    pattern: "file",
    run_id: row.run_id,
    records: outcome.rows - row.rows + outcome.badRows - row.bad_rows,
    offset: outcome.to,
    ms: Date.now() - started,
    ...(committed ? {} : { error: "step already committed by another delivery" }),
  });
  if (committed && !outcome.done) await queueStep(env, row.key, outcome.to);
}
