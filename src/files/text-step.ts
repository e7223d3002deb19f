import type { Payload } from "../envelope/envelope";
import { CsvWindowReader, detectDelimiter, fieldNames } from "./csv-rows";
import type { FilesEnv } from "./env";
import { rowEnvelope, rowObjectEnvelope } from "./envelopes";
import type { LedgerRow, ParseState } from "./ledger";
import type { Sender } from "./sender";
import { textDecoder } from "./text-encoding";
import { FileUnreadable, type StepOutcome } from "./step";
import { JsonLinesReader, lineEnd, type RowItem, rowText } from "./text-rows";
import { isGzipObject, readGzipWindow, readPlainWindow, type Window } from "./window";

const DEFAULT_STEP_BYTES = 8 * 1024 * 1024;
/** Rows are parsed and sent this many at a time: a step never holds its whole window as parsed rows. */
const ROW_BATCH = 1000;

/** A window's rows, a batch at a time. */
interface RowReader {
  read(max: number): RowItem[];
  readonly consumed: number;
  readonly nextLine: number;
}

/** A row may be longer than a step's window; the window grows up to this before the file fails. */
const MAX_WINDOW_BYTES = 64 * 1024 * 1024;

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

export async function textStep(env: FilesEnv, row: LedgerRow, state: ParseState, sender: Sender): Promise<StepOutcome> {
  const first = row.parse_offset === 0;
  if (first && row.size >= 2) state.spec.gzip = state.spec.gzip || (await isGzipObject(env.RAW, row.key));
  let length = Number(env.FILES_STEP_BYTES ?? DEFAULT_STEP_BYTES);
  let window: Window;
  let body: Uint8Array;
  let reader: RowReader;
  let items: RowItem[];
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
      // Not UTF-8: Windows-1252, what Excel writes (and a superset of Latin-1 for any text).
      state.encoding ??= configured === "auto" ? (looksLikeUtf8(body) ? "utf8" : "windows-1252") : configured;
      const headerLine = rowText(body, 0, lineEnd(body, 0, body.length), textDecoder(state.encoding));
      state.delimiter = row.format === "tsv" ? "\t" : (state.spec.delimiter ?? detectDelimiter(headerLine));
    }
    reader =
      row.format === "jsonl"
        ? new JsonLinesReader(body, row.parse_line, window.final)
        : new CsvWindowReader(body, {
            delimiter: state.delimiter ?? ",",
            encoding: state.encoding ?? "utf8",
            startLine: row.parse_line,
            final: window.final,
          });
    items = reader.read(ROW_BATCH);
    if (window.final || items.length > 0) break;
    if (length >= MAX_WINDOW_BYTES)
      throw new FileUnreadable(`a row starting at byte ${row.parse_offset} is longer than ${MAX_WINDOW_BYTES} bytes`);
    length = Math.min(length * 4, MAX_WINDOW_BYTES);
  }
  const skipped = window.bytes.length - body.length;
  const decoder = textDecoder(state.encoding ?? "utf8");
  let rows = row.rows;
  let badRows = row.bad_rows;
  if (first && row.format !== "jsonl") {
    const header = items[0];
    if (header && !header.fields) throw new FileUnreadable(`the header row could not be read: ${header.error}`);
    if (header?.fields) state.header = fieldNames(header.fields);
    items = items.slice(1);
  }
  // The header's batch may hold nothing else: batches end only when the reader has none left.
  for (let batch = 0; batch === 0 || items.length > 0; batch++, items = reader.read(ROW_BATCH)) {
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
        if (fields && !error) {
          rows++;
          await sender.add(row.stream, rowObjectEnvelope(sender.ctx, row.stream, item.line, names, fields));
          continue;
        }
        payload = { raw: item.text ?? rowText(body, item.start, item.end, decoder) };
      }
      if (error) badRows++;
      else rows++;
      await sender.add(row.stream, rowEnvelope(sender.ctx, row.stream, position, payload, error));
    }
  }
  const parsed = { consumed: reader.consumed, nextLine: reader.nextLine };
  // The last window is done whatever it ends with (blank lines leave nothing for another step).
  const to = window.final ? row.parse_offset + window.bytes.length : row.parse_offset + skipped + parsed.consumed;
  if (!window.final && to <= row.parse_offset) throw new FileUnreadable(`no progress at byte ${row.parse_offset}`);
  return { to, line: parsed.nextLine, rows, badRows, done: window.final };
}
