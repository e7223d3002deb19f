import { Buffer } from "node:buffer";
import { Parser } from "csv-parse";
import { type RecordDelimiter, ScanStop, scanRecords, scannableDelimiter, TextOffsets, windowText, windowTextBytes } from "./csv-scan";
import { latin1ToWindows1252, type TextEncodingName, textDecoder } from "./text-encoding";
import { countLf, lineEnd, type RowItem, rowText, skipBlankLines, type WindowRows } from "./text-rows";

/** A quoted field longer than this is taken for a quote that never closes. */
export const MAX_RECORD_CHARS = 4 * 1024 * 1024;

interface CsvRecord {
  record: string[];
  info: { bytes: number };
}
interface CsvApi {
  parse(
    buf: Uint8Array | undefined,
    end: boolean,
    push: (r: CsvRecord) => void,
    close: () => void,
  ): (Error & { code?: string }) | undefined;
}

/**
 * csv-parse's own incremental core (`Parser#api`, the synchronous engine behind both of its
 * streaming APIs): it reports the byte where each record ends, which is what lets a step stop at a
 * record boundary and the next one start there. Relaxed on quotes and column counts: a ragged row
 * is reported (never dropped) by the caller, who knows the header.
 */
function csvApi(delimiter: string, encoding: TextEncodingName, recordDelimiter: RecordDelimiter): CsvApi {
  const parser = new Parser({
    delimiter,
    // Single-byte files are split as ISO-8859-1 (one character per byte, so the byte counts hold)
    // and their fields mapped to Windows-1252 after.
    encoding: encoding === "utf8" ? "utf8" : "latin1",
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_CHARS,
    // Picking up from the fast path: the record delimiter it (like csv-parse) found first.
    ...(recordDelimiter ? { record_delimiter: recordDelimiter } : {}),
  });
  return (parser as unknown as { api: CsvApi }).api;
}

/** The record delimiter a csv-parse core has settled on ("" while it has seen no line break). */
function settledDelimiter(api: CsvApi): RecordDelimiter {
  const found = (api as unknown as { options: { record_delimiter: Uint8Array[] } }).options.record_delimiter[0];
  return found ? (String.fromCharCode(...found) as RecordDelimiter) : "";
}

/** csv-parse reads this much past a record the fast path left to it before handing back. */
const UNUSUAL_CHUNK_BYTES = 64 * 1024;

export interface CsvWindowOptions {
  delimiter: string;
  encoding: TextEncodingName;
  startLine: number;
  final: boolean;
  /** false: csv-parse reads the whole window (the reference the tests compare the fast path with). */
  scan?: boolean;
}

/**
 * Parses the complete CSV records of a window. A record the parser cannot read is kept as the text
 * of its first line, with the parser's error, and parsing resumes on the next line.
 */
export function csvRows(bytes: Uint8Array, opts: CsvWindowOptions): WindowRows {
  const reader = new CsvWindowReader(bytes, opts);
  const items: RowItem[] = [];
  for (let batch = reader.read(Number.POSITIVE_INFINITY); batch.length > 0; batch = reader.read(Number.POSITIVE_INFINITY)) {
    for (const item of batch) items.push(item);
  }
  return { items, consumed: reader.consumed, nextLine: reader.nextLine };
}

/**
 * `csvRows` a batch at a time, so a step turns rows into envelopes as it goes instead of holding a
 * window's worth of parsed rows (which, kept alive together, were most of the step's GC time).
 *
 * The window is read by the fast path (csv-scan.ts) where it can, and by csv-parse's core from any
 * record the fast path leaves: both give the same records, so rows, lines and errors are csv-parse's.
 */
export class CsvWindowReader {
  private readonly decoder: TextDecoder;
  private readonly singleByte: boolean;
  private readonly text: string | undefined;
  private readonly offsets: TextOffsets | undefined;
  private fast: boolean;
  private readonly delimiterCode: number;
  private pos = 0;
  private line: number;
  private done = false;
  // What a single csv-parse core reading from `parserStart` would know at `pos`: the old reading.
  private parserStart = 0;
  private recordDelimiter: RecordDelimiter = "";
  private out: RowItem[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    private readonly opts: CsvWindowOptions,
  ) {
    this.decoder = textDecoder(opts.encoding);
    this.singleByte = opts.encoding !== "utf8";
    this.line = opts.startLine;
    this.text = opts.scan !== false && scannableDelimiter(opts.delimiter) ? windowText(bytes, opts.encoding, opts.final) : undefined;
    this.offsets = this.text === undefined ? undefined : new TextOffsets(this.text, windowTextBytes(bytes, opts.encoding, opts.final));
    this.fast = this.text !== undefined;
    this.delimiterCode = opts.delimiter.charCodeAt(0);
  }

  /** Window-relative end of the last complete row read so far. */
  get consumed(): number {
    return this.pos;
  }
  /** The line after the rows read so far. */
  get nextLine(): number {
    return this.line;
  }

  /** The next rows, about `max` of them (csv-parse's stretches may give more); none once the window is read. */
  read(max: number): RowItem[] {
    this.out = [];
    while (!this.done && this.out.length < max) this.advance(max);
    return this.out;
  }

  private addRecord = (fields: string[], end: number): void => {
    const { bytes, pos } = this;
    const blank = skipBlankLines(bytes, pos, end);
    // A line holding only a CR (CRLF lines in an LF file) or spaces is blank, not a one-field row.
    const isBlank = fields.length === 1 && /^\s*$/.test(fields[0] ?? "");
    if (!isBlank) this.out.push({ line: this.line + blank.lines, start: blank.at, end, fields });
    this.line += countLf(bytes, pos, end);
    this.pos = end;
  };
  private addScanned = (fields: string[], endChar: number): void => this.addRecord(fields, (this.offsets as TextOffsets).toByte(endChar));

  private advance(max: number): void {
    const { bytes, opts } = this;
    if (this.pos >= bytes.length) {
      this.done = true;
      return;
    }
    let chunkEnd = bytes.length;
    if (this.fast && this.text !== undefined && this.offsets) {
      const room = max - this.out.length;
      const scanned = scanRecords(
        this.text,
        this.offsets.toChar(this.pos),
        this.delimiterCode,
        this.recordDelimiter,
        this.addScanned,
        room,
      );
      this.recordDelimiter = scanned.recordDelimiter;
      if (scanned.stop === ScanStop.Full) return;
      if (scanned.stop === ScanStop.LoneCr) this.fast = false;
      if (scanned.stop === ScanStop.Unusual) chunkEnd = Math.min(bytes.length, this.pos + UNUSUAL_CHUNK_BYTES);
    }
    let err: ReturnType<CsvApi["parse"]>;
    for (;;) {
      const api = csvApi(opts.delimiter, opts.encoding, this.recordDelimiter);
      const base = this.pos;
      const records: CsvRecord[] = [];
      const end = opts.final && chunkEnd === bytes.length;
      err = api.parse(
        Buffer.from(bytes.buffer, bytes.byteOffset + base, chunkEnd - base),
        end,
        (r) => records.push(r),
        () => {},
      );
      this.recordDelimiter = settledDelimiter(api);
      // An error's text names the line csv-parse counted from where the old single reading began.
      if (err && base > this.parserStart) err = firstError(bytes, this.parserStart, chunkEnd, end, opts) ?? err;
      for (const r of records) this.addRecord(this.singleByte ? r.record.map(latin1ToWindows1252) : r.record, base + r.info.bytes);
      if (records.length > 0 || err || chunkEnd === bytes.length) break;
      chunkEnd = Math.min(bytes.length, base + (chunkEnd - base) * 4);
    }
    if (!err) {
      if (chunkEnd === bytes.length) this.done = true;
      return;
    }
    this.recordDelimiter = "";
    const { pos } = this;
    const blank = skipBlankLines(bytes, pos, bytes.length);
    if (blank.at >= bytes.length) {
      this.pos = bytes.length;
      this.done = true;
      return;
    }
    // Without `final`, a cut line may only look broken: leave it to the next step unless it is whole.
    const end = lineEnd(bytes, blank.at, bytes.length);
    if (!opts.final && end === bytes.length && bytes[end - 1] !== 0x0a) {
      this.done = true;
      return;
    }
    this.out.push({
      line: this.line + blank.lines,
      start: blank.at,
      end,
      text: rowText(bytes, blank.at, end, this.decoder),
      error: `${err.code ?? "CSV_ERROR"}: ${err.message}`,
    });
    this.line += countLf(bytes, pos, end);
    this.pos = end;
    this.parserStart = end;
  }
}

/** The error one csv-parse core reading [from, to) stops with (rare: only bad rows get here). */
function firstError(
  bytes: Uint8Array,
  from: number,
  to: number,
  end: boolean,
  opts: { delimiter: string; encoding: TextEncodingName },
): (Error & { code?: string }) | undefined {
  return csvApi(opts.delimiter, opts.encoding, "").parse(
    Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from),
    end,
    () => {},
    () => {},
  );
}

/** The delimiter a header line uses: the most frequent of , ; tab | outside quotes (comma on a tie). */
export function detectDelimiter(headerLine: string): string {
  const counts = new Map<string, number>([
    [",", 0],
    [";", 0],
    ["\t", 0],
    ["|", 0],
  ]);
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ",";
  for (const [ch, n] of counts) if (n > (counts.get(best) ?? 0)) best = ch;
  return best;
}

/** Header cells become field names: blanks get `column_<n>`, repeats get `_2`, `_3`… */
export function fieldNames(header: string[]): string[] {
  const seen = new Map<string, number>();
  return header.map((raw, i) => {
    const base = raw.trim() === "" ? `column_${i + 1}` : raw;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}_${n}`;
  });
}
