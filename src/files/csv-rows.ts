import { Buffer } from "node:buffer";
import { Parser } from "csv-parse";
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
function csvApi(delimiter: string, encoding: TextEncodingName): CsvApi {
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
  });
  return (parser as unknown as { api: CsvApi }).api;
}

/**
 * Parses the complete CSV records of a window. A record the parser cannot read is kept as the text
 * of its first line, with the parser's error, and parsing resumes on the next line.
 */
export function csvRows(
  bytes: Uint8Array,
  opts: { delimiter: string; encoding: TextEncodingName; startLine: number; final: boolean },
): WindowRows {
  const decoder = textDecoder(opts.encoding);
  const singleByte = opts.encoding !== "utf8";
  const items: RowItem[] = [];
  let pos = 0;
  let line = opts.startLine;
  while (pos < bytes.length) {
    const api = csvApi(opts.delimiter, opts.encoding);
    const base = pos;
    const records: CsvRecord[] = [];
    const err = api.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset + base, bytes.length - base),
      opts.final,
      (r) => records.push(r),
      () => {},
    );
    for (const r of records) {
      const end = base + r.info.bytes;
      const blank = skipBlankLines(bytes, pos, end);
      // A line holding only a CR (CRLF lines in an LF file) or spaces is blank, not a one-field row.
      const isBlank = r.record.length === 1 && /^\s*$/.test(r.record[0] ?? "");
      const fields = singleByte ? r.record.map(latin1ToWindows1252) : r.record;
      if (!isBlank) items.push({ line: line + blank.lines, start: blank.at, end, fields });
      line += countLf(bytes, pos, end);
      pos = end;
    }
    if (!err) break;
    const blank = skipBlankLines(bytes, pos, bytes.length);
    if (blank.at >= bytes.length) {
      pos = bytes.length;
      break;
    }
    // Without `final`, a cut line may only look broken: leave it to the next step unless it is whole.
    const end = lineEnd(bytes, blank.at, bytes.length);
    if (!opts.final && end === bytes.length && bytes[end - 1] !== 0x0a) break;
    items.push({
      line: line + blank.lines,
      start: blank.at,
      end,
      text: rowText(bytes, blank.at, end, decoder),
      error: `${err.code ?? "CSV_ERROR"}: ${err.message}`,
    });
    line += countLf(bytes, pos, end);
    pos = end;
  }
  return { items, consumed: pos, nextLine: line };
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
