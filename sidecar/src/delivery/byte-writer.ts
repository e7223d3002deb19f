import { isUtf8 } from "node:buffer";

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const HEX = Buffer.from("0123456789abcdef", "latin1");
const HEX_UPPER = Buffer.from("0123456789ABCDEF", "latin1");
/** JSON.stringify's short escapes for control characters, by code. */
const SHORT_ESCAPE: Record<number, number> = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 };

/**
 * A growable byte buffer that deliveries are encoded into, so that a change's text goes from the
 * server's bytes to the request body without becoming a JS string on the way.
 *
 * "Twice escaped" is how text sits in a delivery: a JSON string value inside an envelope line,
 * and the line itself a JSON string inside its bundle (`"line":"{\"data\":{\"v\":\"…\"}}"`).
 */
export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** A writer over a buffer handed in (from another thread), with `pos` bytes already written. */
  static over(buf: Buffer, pos = 0): ByteWriter {
    const w = new ByteWriter(0);
    w.buf = buf;
    w.pos = pos;
    return w;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 256);
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    if (b.length > 32) this.buf.set(b, this.pos);
    else for (let i = 0; i < b.length; i++) this.buf[this.pos + i] = b[i] as number;
    this.pos += b.length;
  }

  /** Bytes `src[a, b)` as they are. */
  range(src: Uint8Array, a: number, b: number): void {
    this.ensure(b - a);
    for (let i = a; i < b; i++) this.buf[this.pos++] = src[i] as number;
  }

  /** A string known to be ASCII (hex, LSNs, ISO times, numbers). */
  ascii(s: string): void {
    this.ensure(s.length);
    this.pos += this.buf.write(s, this.pos, "latin1");
  }

  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, "utf8");
  }

  /** An unsigned 32-bit number in upper-case hex without leading zeros (half of an LSN). */
  hexUpper(n: number): void {
    this.ensure(8);
    let started = false;
    for (let shift = 28; shift >= 0; shift -= 4) {
      const d = (n >>> shift) & 15;
      if (d !== 0 || started || shift === 0) {
        this.buf[this.pos++] = HEX_UPPER[d] as number;
        started = true;
      }
    }
  }

  /**
   * The text of UTF-8 bytes `src[a, b)`, twice escaped, exactly as
   * `JSON.stringify(JSON.stringify(text))` writes it between its outer quotes. Bytes that are not
   * UTF-8 are first decoded with replacement characters, as `toString("utf8")` would.
   */
  twiceEscaped(src: Uint8Array, a: number, b: number): void {
    this.ensure((b - a) * 7);
    const out = this.buf;
    let p = this.pos;
    let wide = false;
    for (let i = a; i < b; i++) {
      const c = src[i] as number;
      if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
        out[p++] = c;
        if (c >= 0x80) wide = true;
      } else p = escapeTwice(out, p, c);
    }
    if (wide && !isUtf8(src.subarray(a, b))) {
      this.twiceEscapedString(Buffer.from(src.buffer, src.byteOffset + a, b - a).toString("utf8"));
      return;
    }
    this.pos = p;
  }

  twiceEscapedString(s: string): void {
    const twice = JSON.stringify(JSON.stringify(s));
    // Drop the outer `"\"` and `\""` that the two quotings added.
    this.utf8(twice.slice(3, -3));
  }

  subarray(a = 0, b = this.pos): Buffer {
    return this.buf.subarray(a, b);
  }
}

/** Whether `src[a, b)` is valid UTF-8 (ASCII is checked here without a native call). */
export function isUtf8Range(src: Uint8Array, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if ((src[i] as number) >= 0x80) return isUtf8(src.subarray(a, b));
  return true;
}

/** One byte that JSON escapes, escaped, and its escape escaped again. Returns the new position. */
export function escapeTwice(out: Buffer, p: number, c: number): number {
  out[p++] = BACKSLASH;
  out[p++] = BACKSLASH;
  if (c === QUOTE || c === BACKSLASH) {
    out[p++] = BACKSLASH;
    out[p++] = c;
    return p;
  }
  const short = SHORT_ESCAPE[c];
  if (short !== undefined) {
    out[p++] = short;
    return p;
  }
  out[p++] = 0x75; // u
  out[p++] = 0x30;
  out[p++] = 0x30;
  out[p++] = HEX[c >> 4] as number;
  out[p++] = HEX[c & 15] as number;
  return p;
}
