import type { BundleRecord } from "../envelope/bundle";
import type { Payload } from "../envelope/envelope";
import { enqueueRecords } from "../ingest/enqueue";
import { errorText, log } from "../lib/log";
import { csvRows, detectDelimiter, fieldNames } from "./csv-rows";
import type { FilesEnv } from "./env";
import { type FileContext, rowEnvelope, rowObject } from "./envelopes";
import type { FileParseJob } from "./jobs";
import { queueStep } from "./land";
import { commitStep, failFile, type LedgerRow, ledgerByKey, type ParseState } from "./ledger";
import { jsonLines, lineEnd, rowText, type WindowRows } from "./text-rows";
import { isGzipObject, readGzipWindow, readPlainWindow, type Window } from "./window";
import { readWorkbook, WorkbookUnreadable } from "./xlsx";

/** A file that can never be parsed as configured: the run fails loudly, the original stays in files/. */
export class FileUnreadable extends Error {}

const DEFAULT_STEP_BYTES = 8 * 1024 * 1024;
/** A row may be longer than a step's window; the window grows up to this before the file fails. */
const MAX_WINDOW_BYTES = 64 * 1024 * 1024;
/** Records are sent in groups of this many, so the same step always sends the same bundles. */
const SEND_EVERY = 1000;
/**
 * .xlsx is read whole (a ZIP's directory is at its end) and its XML is typically 5–10× the ZIP:
 * 10 MB keeps a step well inside a Worker's 128 MB. Bigger workbooks belong in CSV.
 */
export const XLSX_MAX_BYTES = 10 * 1024 * 1024;
const XLSX_ROWS_PER_STEP = 20_000;

interface StepOutcome {
  to: number;
  line: number;
  rows: number;
  badRows: number;
  done: boolean;
}

/** Sends records in fixed groups per stream: deterministic bundles, so the raw writer's bundle dedupe absorbs a repeated step. */
class Sender {
  private pending = new Map<string, BundleRecord[]>();
  constructor(
    private env: FilesEnv,
    readonly ctx: FileContext,
  ) {}
  async add(stream: string, record: BundleRecord): Promise<void> {
    const list = this.pending.get(stream) ?? [];
    list.push(record);
    this.pending.set(stream, list);
    if (list.length >= SEND_EVERY) await this.flush(stream);
  }
  async flush(stream?: string): Promise<void> {
    for (const s of stream ? [stream] : [...this.pending.keys()]) {
      const list = this.pending.get(s) ?? [];
      this.pending.delete(s);
      if (list.length === 0) continue;
      await enqueueRecords(
        this.env,
        { source: this.ctx.source, stream: s, pattern: "file", received_at: this.ctx.receivedAt, run_id: this.ctx.runId, dedupe: "bundle" },
        list,
      );
    }
  }
}

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

async function readWindow(env: FilesEnv, row: LedgerRow, gzip: boolean, offset: number, length: number): Promise<Window> {
  return gzip ? readGzipWindow(env.RAW, row.key, offset, length) : readPlainWindow(env.RAW, row.key, row.size, offset, length);
}

function looksLikeUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

async function textStep(env: FilesEnv, row: LedgerRow, state: ParseState, sender: Sender): Promise<StepOutcome> {
  const first = row.parse_offset === 0;
  if (first && row.size >= 2) state.spec.gzip = state.spec.gzip || (await isGzipObject(env.RAW, row.key));
  let length = Number(env.FILES_STEP_BYTES ?? DEFAULT_STEP_BYTES);
  let window: Window;
  let body: Uint8Array;
  let parsed: WindowRows;
  for (;;) {
    window = await readWindow(env, row, state.spec.gzip, row.parse_offset, length);
    body = window.bytes;
    if (first && ((body[0] === 0xff && body[1] === 0xfe) || (body[0] === 0xfe && body[1] === 0xff))) {
      throw new FileUnreadable("the file is UTF-16 (it starts with a UTF-16 byte order mark); export it as UTF-8 or Latin-1");
    }
    if (first && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
      body = body.subarray(3);
      state.encoding = "utf8";
    }
    if (first && row.format !== "jsonl") {
      const configured = state.spec.encoding;
      state.encoding ??= configured === "auto" ? (looksLikeUtf8(body) ? "utf8" : "latin1") : configured;
      const headerLine = rowText(
        body,
        0,
        lineEnd(body, 0, body.length),
        new TextDecoder(state.encoding === "latin1" ? "iso-8859-1" : "utf-8"),
      );
      state.delimiter = row.format === "tsv" ? "\t" : (state.spec.delimiter ?? detectDelimiter(headerLine));
    }
    parsed =
      row.format === "jsonl"
        ? jsonLines(body, row.parse_line, window.final)
        : csvRows(body, {
            delimiter: state.delimiter ?? ",",
            encoding: state.encoding ?? "utf8",
            startLine: row.parse_line,
            final: window.final,
          });
    if (window.final || parsed.items.length > 0) break;
    if (length >= MAX_WINDOW_BYTES)
      throw new FileUnreadable(`a row starting at byte ${row.parse_offset} is longer than ${MAX_WINDOW_BYTES} bytes`);
    length = Math.min(length * 4, MAX_WINDOW_BYTES);
  }
  const skipped = window.bytes.length - body.length;
  const decoder = new TextDecoder(state.encoding === "latin1" ? "iso-8859-1" : "utf-8");
  let rows = row.rows;
  let badRows = row.bad_rows;
  let items = parsed.items;
  if (first && row.format !== "jsonl") {
    const header = items[0];
    if (header && !header.fields) throw new FileUnreadable(`the header row could not be read: ${header.error}`);
    if (header?.fields) state.header = fieldNames(header.fields);
    items = items.slice(1);
  }
  for (const item of items) {
    const position = { line: item.line };
    let payload: Payload;
    let error: string | undefined;
    if (row.format === "jsonl") {
      payload = item.error ? { raw: item.text ?? "" } : { json: item.text ?? "" };
      error = item.error;
    } else {
      const names = state.header ?? [];
      const fields = item.fields;
      error = !fields
        ? item.error
        : fields.length !== names.length
          ? `row has ${fields.length} fields, the header has ${names.length}`
          : undefined;
      payload = fields && !error ? { json: rowObject(names, fields) } : { raw: item.text ?? rowText(body, item.start, item.end, decoder) };
    }
    if (error) badRows++;
    else rows++;
    await sender.add(row.stream, rowEnvelope(sender.ctx, row.stream, position, payload, error));
  }
  return {
    to: row.parse_offset + skipped + parsed.consumed,
    line: parsed.nextLine,
    rows,
    badRows,
    done: window.final && skipped + parsed.consumed >= window.bytes.length,
  };
}

/** Sheet rows are numbered across the workbook: `parse_offset` counts the data rows already sent. */
async function xlsxStep(env: FilesEnv, row: LedgerRow, sender: Sender): Promise<StepOutcome> {
  if (row.size > XLSX_MAX_BYTES) throw new FileUnreadable(`.xlsx larger than ${XLSX_MAX_BYTES} bytes; export it as CSV`);
  const object = await env.RAW.get(row.key);
  if (!object) throw new Error(`landed file ${row.key} is missing from R2`);
  const sheets = readWorkbook(new Uint8Array(await object.arrayBuffer()));
  const ctx = sender.ctx;
  let index = 0;
  let rows = row.rows;
  let badRows = row.bad_rows;
  const stop = row.parse_offset + XLSX_ROWS_PER_STEP;
  for (const sheet of sheets) {
    const [header, ...data] = sheet.rows;
    if (!header) continue;
    const names = fieldNames(header.cells);
    const stream = `${row.stream}.${sheetSlug(sheet.name)}`;
    for (const r of data) {
      if (index >= stop) return { to: index, line: 0, rows, badRows, done: false };
      if (index++ < row.parse_offset) continue;
      const position = { line: r.row, sheet: sheet.name };
      if (r.cells.length > names.length) {
        const error = `row has ${r.cells.length} cells, the header has ${names.length}`;
        await sender.add(stream, rowEnvelope(ctx, stream, position, { raw: JSON.stringify(r.cells) }, error));
        badRows++;
      } else {
        await sender.add(stream, rowEnvelope(ctx, stream, position, { json: rowObject(names, r.cells) }));
        rows++;
      }
    }
  }
  return { to: index, line: 0, rows, badRows, done: true };
}

export function sheetSlug(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return slug.length > 0 ? slug.slice(0, 60) : "sheet";
}
