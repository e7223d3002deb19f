import { DockIdWriter } from "../cdc/dock-id";
import { escapeTwice, isUtf8Range } from "../delivery/byte-writer";
import type { StreamRecords } from "../delivery/bundle-pack";
import { J, lineFragment } from "../delivery/line-fragment";
import { copyFieldText } from "./copy-text";

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/** How the single pass over a row treats each byte. */
const PLAIN = 0;
const FIELD_END = 1;
const COPY_ESCAPE = 2;
const JSON_ESCAPE = 3;
const WIDE = 4;
const CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) CLASS[c] = JSON_ESCAPE;
CLASS[TAB] = FIELD_END;
CLASS[0x22] = JSON_ESCAPE;
CLASS[BACKSLASH] = COPY_ESCAPE;
for (let c = 0x80; c < 0x100; c++) CLASS[c] = WIDE;

/** What COPY TO writes after a backslash, and the byte it stands for. */
const COPY_ESCAPED = new Int16Array(256).fill(-1);
for (const [letter, byte] of [
  ["b", 8],
  ["f", 12],
  ["n", 10],
  ["r", 13],
  ["t", 9],
  ["v", 11],
  ["\\", 0x5c],
] as const)
  COPY_ESCAPED[letter.charCodeAt(0)] = byte;

const NULL_FIELD = 0x4e; // the N of \N

const REC_ID = Buffer.from('{"id":"');
const REC_LINE = Buffer.concat([Buffer.from('","line":"'), lineFragment('{"_dock":{"id":"')]);
const QUOTE = lineFragment('"');
const END = Buffer.concat([lineFragment("}}"), Buffer.from('"}')]);
const QUOTE_END = Buffer.concat([QUOTE, END]);

export interface CopyRowEncoderOptions {
  source: string;
  stream: string;
  runId: string;
  columns: string[];
  /** Indexes (in `columns`) of the primary key; empty when the first COPY column is the ctid. */
  keyIndexes: number[];
  /** The COPY output starts with `ctid::text`, the key of a table without a primary key. */
  ctidFirst: boolean;
  receivedAt: () => string;
}

function put(out: Buffer, p: number, b: Buffer): number {
  if (b.length > 48) {
    out.set(b, p);
    return p + b.length;
  }
  for (let i = 0; i < b.length; i++) out[p++] = b[i] as number;
  return p;
}

/**
 * Turns `COPY … TO STDOUT` text rows into full-refresh records (`op: snapshot`, version = the run
 * id) straight from the COPY bytes, in one pass per row: each field is unescaped from COPY and
 * escaped twice for the delivery as it is copied. Only what COPY TO never writes (octal or hex
 * escapes), bytes that are not UTF-8, and composite or ctid keys take a string path. The line is
 * exactly what `envelopeLine` makes of the same row (copy-row-encoder.test.ts holds it to that).
 */
export class CopyRowEncoder {
  private readonly fields: number;
  private readonly ids = new DockIdWriter();
  private readonly hashPrefix: Buffer;
  private readonly afterId: Buffer;
  private readonly beforeTime: Buffer;
  private readonly afterTime: Buffer;
  /** Per column: what opens its value (`,` but for the first, `\"name\":`, and the opening quote). */
  private readonly openValue: Buffer[];
  /** Per column: the same for a NULL, through `null`. */
  private readonly nullValue: Buffer[];
  /** The same two, after the closing quote of a string in the column before (one copy instead of two). */
  private readonly closeThenOpen: Buffer[];
  private readonly closeThenNull: Buffer[];
  private readonly versionBytes: Buffer;
  private readonly fixedBytes: number;
  private clockText = "";
  /** `beforeTime`, the time and `afterTime`: the same for every row of a chunk. */
  private timeBytes = Buffer.alloc(0);
  private rest: Buffer | null = null;

  constructor(private readonly o: CopyRowEncoderOptions) {
    this.fields = o.columns.length + (o.ctidFirst ? 1 : 0);
    this.hashPrefix = Buffer.from(`${o.source}\n${o.stream}\n`, "utf8");
    this.ids.input.bytes(this.hashPrefix);
    this.afterId = lineFragment(`","source":${J(o.source)},"stream":${J(o.stream)},"pattern":"full_refresh","key":"`);
    this.beforeTime = lineFragment(`","version":${J(o.runId)},"op":"snapshot","received_at":"`);
    this.afterTime = lineFragment(`","run_id":${J(o.runId)}},"data":{`);
    this.openValue = o.columns.map((c, i) => lineFragment(`${i > 0 ? "," : ""}${J(c)}:"`));
    this.nullValue = o.columns.map((c, i) => lineFragment(`${i > 0 ? "," : ""}${J(c)}:null`));
    this.closeThenOpen = this.openValue.map((b) => Buffer.concat([QUOTE, b]));
    this.closeThenNull = this.nullValue.map((b) => Buffer.concat([QUOTE, b]));
    this.versionBytes = Buffer.from(`\n${o.runId}`, "utf8");
    const constant = [REC_ID, REC_LINE, this.afterId, this.beforeTime, this.afterTime, END, ...this.nullValue, ...this.openValue];
    this.fixedBytes = constant.reduce((n, b) => n + b.length, 0) + o.columns.length * QUOTE.length + 2 * 32 + 64;
  }

  /** Encodes every complete row in `chunk` (a partial last row waits for the next chunk); returns rows written. */
  push(chunk: Buffer, out: StreamRecords): number {
    this.tickClock();
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let rows = 0;
    let lineStart = 0;
    for (let nl = buf.indexOf(NEWLINE, lineStart); nl >= 0; nl = buf.indexOf(NEWLINE, lineStart)) {
      this.row(buf, lineStart, nl, out);
      rows++;
      lineStart = nl + 1;
    }
    if (lineStart < buf.length) this.rest = Buffer.from(buf.subarray(lineStart));
    return rows;
  }

  /** A last row without its newline. */
  end(out: StreamRecords): number {
    const rest = this.rest;
    this.rest = null;
    if (!rest || rest.length === 0) return 0;
    this.tickClock();
    this.row(rest, 0, rest.length, out);
    return 1;
  }

  private row(src: Buffer, a: number, b: number, records: StreamRecords): void {
    const key = this.keyOf(src, a, b);
    const keyEnd = typeof key === "string" ? 0 : fieldEnd(src, key, b);
    // The hash input is `source\nstream\n` (written once) + key + `\n` + run id.
    const h = this.ids.input;
    h.pos = this.hashPrefix.length;
    if (typeof key === "string") h.utf8(key);
    else h.range(src, key, keyEnd);
    h.bytes(this.versionBytes);

    const w = records.w;
    const start = w.pos;
    w.ensure(this.fixedBytes + (b - a) * 14);
    let out = w.buf;
    let p = put(out, w.pos, REC_ID);
    const idAt = p;
    p = this.ids.write(out, p);
    p = put(out, p, REC_LINE);
    for (let k = 0; k < 32; k++) out[p++] = out[idAt + k] as number;
    p = put(out, p, this.afterId);
    w.pos = p;
    if (typeof key === "string") w.twiceEscapedString(key);
    else w.twiceEscaped(src, key, keyEnd);
    w.ensure(this.fixedBytes + (b - a) * 14);
    out = w.buf;
    p = w.pos;
    p = put(out, p, this.timeBytes);

    // The data: field by field in one pass, the ctid (if any) skipped.
    let i = a;
    let field = 0;
    if (this.o.ctidFirst) {
      i = fieldEnd(src, a, b) + 1;
      field = 1;
    }
    // Whether the field before was a string whose closing quote is still to write.
    let quoted = false;
    for (let c = 0; c < this.o.columns.length; c++, field++) {
      if (i > b) throw new Error(`COPY row has ${field} fields, expected ${this.fields}`);
      // \N alone is NULL.
      if (src[i] === BACKSLASH && src[i + 1] === NULL_FIELD && (i + 2 === b || src[i + 2] === TAB)) {
        p = put(out, p, (quoted ? this.closeThenNull[c] : this.nullValue[c]) as Buffer);
        quoted = false;
        i += 3;
        continue;
      }
      p = put(out, p, (quoted ? this.closeThenOpen[c] : this.openValue[c]) as Buffer);
      quoted = true;
      const valueAt = p;
      const fieldAt = i;
      let wide = false;
      let fallback = false;
      for (; i < b; i++) {
        const ch = src[i] as number;
        const kind = CLASS[ch] as number;
        if (kind === PLAIN) out[p++] = ch;
        else if (kind === FIELD_END) break;
        else if (kind === COPY_ESCAPE) {
          const v = i + 1 < b ? (COPY_ESCAPED[src[i + 1] as number] as number) : -1;
          if (v < 0) {
            fallback = true;
            break;
          }
          i++;
          p = escapeTwice(out, p, v);
        } else if (kind === JSON_ESCAPE) p = escapeTwice(out, p, ch);
        else {
          out[p++] = ch;
          wide = true;
        }
      }
      if (fallback || (wide && !isUtf8Range(src, fieldAt, fieldEnd(src, fieldAt, b)))) {
        // The string path, as COPY FROM would read the field.
        const end = fieldEnd(src, fieldAt, b);
        w.pos = valueAt;
        w.twiceEscapedString(copyFieldText(src.toString("utf8", fieldAt, end)) ?? "");
        w.ensure(this.fixedBytes + (b - a) * 14);
        out = w.buf;
        p = w.pos;
        i = end;
      }
      if (c < this.o.columns.length - 1) {
        if (i >= b) throw new Error(`COPY row has ${field + 1} fields, expected ${this.fields}`);
        i++; // past the tab
      }
    }
    if (i < b) throw new Error(`COPY row has more fields than the ${this.fields} expected`);
    p = put(out, p, quoted ? QUOTE_END : END);
    w.pos = p;
    records.close(start);
  }

  /**
   * The record key: where a one-column primary key's field starts when it can be copied as it is
   * (no escapes, valid UTF-8), else the key as a string (`ctid:(0,1)`, a JSON array for several).
   */
  private keyOf(src: Buffer, a: number, b: number): number | string {
    const { keyIndexes, ctidFirst } = this.o;
    if (ctidFirst) return `ctid:${fieldText(src, a, b)}`;
    if (keyIndexes.length === 1) {
      const s = fieldStart(src, a, b, keyIndexes[0] as number);
      const e = fieldEnd(src, s, b);
      if (!hasBackslash(src, s, e) && isUtf8Range(src, s, e)) return s;
    }
    const values = keyIndexes.map((k) => fieldText(src, fieldStart(src, a, b, k), b));
    return values.length === 1 && typeof values[0] === "string" ? values[0] : JSON.stringify(values);
  }

  /** `received_at` is read once per chunk (a chunk takes milliseconds to encode). */
  private tickClock(): void {
    const now = this.o.receivedAt();
    if (now !== this.clockText) {
      this.clockText = now;
      this.timeBytes = Buffer.concat([this.beforeTime, Buffer.from(now, "latin1"), this.afterTime]);
    }
  }
}

function fieldStart(src: Buffer, a: number, b: number, index: number): number {
  let i = a;
  for (let f = 0; f < index; f++) {
    i = fieldEnd(src, i, b) + 1;
    if (i > b) throw new Error(`COPY row has ${f + 1} fields, expected more than ${index}`);
  }
  return i;
}

function fieldEnd(src: Buffer, from: number, b: number): number {
  for (let i = from; i < b; i++) if (src[i] === TAB) return i;
  return b;
}

function fieldText(src: Buffer, s: number, b: number): string | null {
  return copyFieldText(src.toString("utf8", s, fieldEnd(src, s, b)));
}

function hasBackslash(buf: Buffer, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (buf[i] === BACKSLASH) return true;
  return false;
}
