/** One row found in a window: where it sits and what it holds, or why it could not be read. */
export interface RowItem {
  /** 1-based line of the file where the row starts. */
  line: number;
  /** Window-relative byte where the row's content starts (after blank lines). */
  start: number;
  /** Window-relative byte where the row (with its line break) ends: the next step may start here. */
  end: number;
  fields?: string[];
  /** The row's text, kept when it could not be parsed (and for JSON lines, always). */
  text?: string;
  error?: string;
}

export interface WindowRows {
  items: RowItem[];
  /** Window-relative end of the last complete row; the next step starts at offset + consumed. */
  consumed: number;
  /** The line the next step starts on. */
  nextLine: number;
}

const LF = 0x0a;
const CR = 0x0d;

export function countLf(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = bytes.indexOf(LF, from); i !== -1 && i < to; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}

/** Skips blank lines at `from`; returns the first byte of content and how many line breaks it passed. */
export function skipBlankLines(bytes: Uint8Array, from: number, to: number): { at: number; lines: number } {
  let at = from;
  let lines = 0;
  while (at < to && (bytes[at] === LF || bytes[at] === CR)) {
    if (bytes[at] === LF) lines++;
    at++;
  }
  return { at, lines };
}

/** The row's bytes without its trailing line break, decoded. */
export function rowText(bytes: Uint8Array, from: number, to: number, decoder: TextDecoder): string {
  let end = to;
  while (end > from && (bytes[end - 1] === LF || bytes[end - 1] === CR)) end--;
  return decoder.decode(bytes.subarray(from, end));
}

/** End of the physical line that starts at `from` (after its LF), or `to` when there is none. */
export function lineEnd(bytes: Uint8Array, from: number, to: number): number {
  const lf = bytes.indexOf(LF, from);
  return lf === -1 || lf >= to ? to : lf + 1;
}

/**
 * JSON lines: each non-blank line is one record, its text kept verbatim (only checked to be JSON).
 * Without `final`, a last line with no line break may be cut and is left for the next step.
 */
export function jsonLines(bytes: Uint8Array, startLine: number, final: boolean): WindowRows {
  const reader = new JsonLinesReader(bytes, startLine, final);
  const items: RowItem[] = [];
  for (let batch = reader.read(Number.POSITIVE_INFINITY); batch.length > 0; batch = reader.read(Number.POSITIVE_INFINITY)) {
    for (const item of batch) items.push(item);
  }
  return { items, consumed: reader.consumed, nextLine: reader.nextLine };
}

/** `jsonLines` a batch at a time, so a step never holds a window's worth of lines as strings at once. */
export class JsonLinesReader {
  private readonly decoder = new TextDecoder("utf-8");
  private pos = 0;
  private line: number;
  constructor(
    private readonly bytes: Uint8Array,
    startLine: number,
    private readonly final: boolean,
  ) {
    this.line = startLine;
  }
  /** Window-relative end of the last complete line read so far. */
  get consumed(): number {
    return this.pos;
  }
  /** The line after the lines read so far. */
  get nextLine(): number {
    return this.line;
  }
  /** The next `max` records (fewer at the window's end; none once it is read). */
  read(max: number): RowItem[] {
    const { bytes, decoder } = this;
    const items: RowItem[] = [];
    while (items.length < max && this.pos < bytes.length) {
      const pos = this.pos;
      const line = this.line;
      const lf = bytes.indexOf(LF, pos);
      if (lf === -1 && !this.final) break;
      const end = lf === -1 ? bytes.length : lf + 1;
      const text = rowText(bytes, pos, end, decoder);
      if (text.trim().length > 0) {
        let error: string | undefined;
        try {
          JSON.parse(text);
        } catch (err) {
          error = `line ${line} is not JSON: ${(err as Error).message}`;
        }
        items.push({ line, start: pos, end, text, ...(error ? { error } : {}) });
      }
      this.pos = end;
      this.line++;
    }
    return items;
  }
}
