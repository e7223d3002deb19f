import { Buffer, isAscii } from "node:buffer";
import { latin1ToWindows1252, type TextEncodingName } from "./text-encoding";

/**
 * The fast path of the CSV parser: the records csv-parse (with the options csv-rows.ts gives it)
 * would produce, read from the window decoded once into a string instead of byte by byte.
 * It covers what real files hold — quoted fields with delimiters, doubled quotes and line breaks,
 * quotes inside unquoted fields (relax_quotes), LF or CRLF records (discovered like csv-parse,
 * from the first line break outside quotes), blank lines — and stops at the start of any record it
 * does not handle exactly like csv-parse (text after a closing quote, lone-CR files, huge records,
 * the last few characters of the window); csv-parse itself reads from there. The test suite
 * compares both on random input.
 */

const QUOTE = 34;
const LF = 10;
const CR = 13;
/** Records longer than this go to csv-parse, which knows where its max_record_size error falls. */
const MAX_FAST_RECORD_CHARS = 1024 * 1024;
/** The scan keeps this far from the end of the text: csv-parse needs up to 3 bytes of look-ahead. */
export const TAIL_CHARS = 4;

export type RecordDelimiter = "" | "\n" | "\r\n" | "\r";

export enum ScanStop {
  /** Near the end of the text: the rest is csv-parse's. */
  Tail = 0,
  /** A record the scan does not read exactly like csv-parse: csv-parse reads it. */
  Unusual = 1,
  /** The first line break is a lone CR (classic Mac): csv-parse reads the window from here. */
  LoneCr = 2,
  /** As many records as asked for. */
  Full = 3,
}

/** Whether the fast path can split on this delimiter (one ASCII character that is not a quote or a line break). */
export function scannableDelimiter(delimiter: string): boolean {
  const c = delimiter.charCodeAt(0);
  return delimiter.length === 1 && c < 0x80 && c !== QUOTE && c !== LF && c !== CR;
}

/**
 * How many of the window's bytes `windowText` reads: a single-byte file's all, a UTF-8 file's up to
 * the last line break when more of the file follows (no character is cut there, and a streaming
 * decode, which would hold a cut one back, is several times slower).
 */
export function windowTextBytes(bytes: Uint8Array, encoding: TextEncodingName, final: boolean): number {
  return encoding !== "utf8" || final ? bytes.length : bytes.lastIndexOf(LF) + 1;
}

/**
 * The window as text, one string: UTF-8 only when it is valid (and, unless the window is the
 * file's last, only up to its last LF), single-byte encodings as Windows-1252 (one character per byte).
 * Undefined when csv-parse must read the window byte by byte as before.
 */
export function windowText(bytes: Uint8Array, encoding: TextEncodingName, final: boolean): string | undefined {
  if (encoding !== "utf8") {
    // Node's TextDecoder reads windows-1252 as ISO-8859-1; the mapping after makes both runtimes agree.
    const text = latin1ToWindows1252(new TextDecoder("windows-1252").decode(bytes));
    return text.length === bytes.length ? text : undefined;
  }
  const part = bytes.subarray(0, windowTextBytes(bytes, encoding, final));
  // ASCII (most files) is the same text read as Latin-1, which is a copy into a one-byte string:
  // several times faster than the UTF-8 decoder in Node and in workerd.
  if (isAscii(part)) return Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString("latin1");
  // The lenient decoder is the fast one (Node's fatal mode takes a slower route); a U+FFFD in its
  // text may be a replaced bad byte, and only then does the strict decoder decide.
  const text = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(part);
  if (!text.includes("\uFFFD")) return text;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(part);
  } catch {
    return undefined;
  }
}

/**
 * Monotone conversion between character and byte positions of a window's text (both only move
 * forward). `byteLength`: the bytes the text was decoded from; as many as its characters, both are the same.
 */
export class TextOffsets {
  private char = 0;
  private byte = 0;
  private readonly oneToOne: boolean;
  constructor(
    private readonly text: string,
    byteLength: number,
  ) {
    this.oneToOne = text.length === byteLength;
  }
  toByte(char: number): number {
    if (this.oneToOne) return char;
    while (this.char < char) this.step();
    return this.byte;
  }
  toChar(byte: number): number {
    if (this.oneToOne) return byte;
    while (this.byte < byte) this.step();
    return this.char;
  }
  private step(): void {
    const u = this.text.charCodeAt(this.char++);
    if (u < 0x80) this.byte += 1;
    else if (u < 0x800) this.byte += 2;
    else if (u >= 0xd800 && u <= 0xdbff) {
      this.char++;
      this.byte += 4;
    } else this.byte += 3;
  }
}

export interface ScanResult {
  /** Where the scan stopped: the start of a record it did not read. */
  at: number;
  recordDelimiter: RecordDelimiter;
  stop: ScanStop;
}

/**
 * Reads whole records of `text` from `at` (a record boundary), calling `record` with each one's
 * fields and the character just after its record delimiter, until it stops (see ScanStop).
 */
export function scanRecords(
  text: string,
  at: number,
  delimiter: number,
  recordDelimiter: RecordDelimiter,
  record: (fields: string[], end: number) => void,
  max = Number.POSITIVE_INFINITY,
): ScanResult {
  let count = 0;
  const limit = text.length - TAIL_CHARS;
  let rd = recordDelimiter;
  let start = at;
  /** Length of the record delimiter at `i` (0: none), discovering it as csv-parse does; -1 for a lone CR while undiscovered. */
  const delimiterAt = (c: number, i: number): number => {
    if (rd === "\n") return c === LF ? 1 : 0;
    if (rd === "\r\n") return c === CR && text.charCodeAt(i + 1) === LF ? 2 : 0;
    if (c === LF) {
      rd = "\n";
      return 1;
    }
    if (c !== CR) return 0;
    if (text.charCodeAt(i + 1) !== LF) return -1;
    rd = "\r\n";
    return 2;
  };
  const stopped = (stop: ScanStop): ScanResult => ({ at: start, recordDelimiter: rd, stop });
  for (;;) {
    let i = start;
    const fields: string[] = [];
    if (count >= max) return stopped(ScanStop.Full);
    for (;;) {
      if (i >= limit) return stopped(ScanStop.Tail);
      let c = text.charCodeAt(i);
      if (c === QUOTE) {
        let from = i + 1;
        let value = "";
        for (;;) {
          const q = text.indexOf('"', from);
          if (q === -1 || q + 1 >= limit) return stopped(ScanStop.Tail);
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += text.slice(from, q + 1);
            from = q + 2;
            continue;
          }
          value += text.slice(from, q);
          i = q + 1;
          break;
        }
        fields.push(value);
        c = text.charCodeAt(i);
        if (c === delimiter) {
          i++;
          continue;
        }
        const n = delimiterAt(c, i);
        if (n === -1) return stopped(ScanStop.LoneCr);
        if (n === 0) return stopped(ScanStop.Unusual);
        i += n;
        break;
      }
      let j = i;
      let n = 0;
      for (; j < limit; j++) {
        c = text.charCodeAt(j);
        if (c === delimiter) break;
        if (c === LF || c === CR) {
          n = delimiterAt(c, j);
          if (n === -1) return stopped(ScanStop.LoneCr);
          if (n > 0) break;
        }
      }
      if (j >= limit) return stopped(ScanStop.Tail);
      if (n === 0) {
        fields.push(text.slice(i, j));
        i = j + 1;
        continue;
      }
      if (j === i && fields.length === 0) {
        // A blank line: csv-parse skips it (skip_empty_lines) and the record goes on after it.
        i = j + n;
        continue;
      }
      fields.push(text.slice(i, j));
      i = j + n;
      break;
    }
    if (i - start > MAX_FAST_RECORD_CHARS) return stopped(ScanStop.Unusual);
    record(fields, i);
    count++;
    start = i;
  }
}
