import { Inflate } from "fflate";

/** What the reader hands on for each entry: its name, then its uncompressed bytes, then its end. */
export interface EntrySink {
  start(name: string): void;
  data(bytes: Uint8Array): void;
  end(): void;
}

export class ZipFormatError extends Error {}

const LOCAL = 0x04034b50;
const DESCRIPTOR = 0x08074b50;
const CENTRAL = [0x02014b50, 0x06054b50, 0x06064b50];
/** The longest data descriptor (signature, CRC, two 8-byte sizes), and how much of an entry's tail is held back to find it. */
const HOLD_BACK = 24;

type State =
  | { at: "header" }
  | { at: "sized"; left: number; out: EntryOut }
  | { at: "described"; seen: number; zip64: boolean; out: EntryOut }
  | { at: "central" };

interface EntryOut {
  name: string;
  push(bytes: Uint8Array, final: boolean): void;
}

function u16(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}
function u32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}
function u64(b: Uint8Array, i: number): number {
  return u32(b, i) + u32(b, i + 4) * 2 ** 32;
}

/**
 * A ZIP archive read front to back as it streams in (a local header, the entry's bytes, maybe a data
 * descriptor, the next header, up to the central directory, which is not needed). An entry whose
 * sizes are in a data descriptor after it (bit 3, what streaming writers produce) ends where a
 * descriptor stands whose compressed size is exactly the bytes read since the entry began: a
 * signature alone is not enough, since compressed bytes can hold `PK\x03\x04` by chance (fflate's
 * own Unzip splits the entry there). Stored and deflated entries; ZIP64 sizes.
 */
export class ZipEntries {
  private state: State = { at: "header" };
  private pending: Uint8Array = new Uint8Array(0);
  private offset = 0;

  constructor(private readonly sink: EntrySink) {}

  push(chunk: Uint8Array, final: boolean): void {
    let buf = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    for (;;) {
      const used = this.step(buf);
      if (used < 0) break;
      buf = buf.subarray(used);
      this.offset += used;
    }
    this.pending = buf.slice();
    if (!final || this.state.at === "central" || (this.state.at === "header" && buf.length === 0)) return;
    throw new ZipFormatError(
      this.state.at === "header"
        ? "the archive ends in the middle of an entry's header"
        : `the archive ended inside ${this.state.out.name}`,
    );
  }

  /** Consumes from `buf` and returns how much, or -1 when it needs more bytes (what is left stays pending). */
  private step(buf: Uint8Array): number {
    const state = this.state;
    if (state.at === "central") return buf.length > 0 ? buf.length : -1;
    if (state.at === "header") return this.header(buf);
    if (state.at === "described") return this.described(state, buf);
    if (buf.length === 0) return -1;
    const n = Math.min(state.left, buf.length);
    state.left -= n;
    state.out.push(buf.subarray(0, n), state.left === 0);
    if (state.left === 0) this.state = { at: "header" };
    return n;
  }

  private header(buf: Uint8Array): number {
    if (buf.length < 4) return -1;
    const sig = u32(buf, 0);
    if (CENTRAL.includes(sig)) {
      this.state = { at: "central" };
      return 0;
    }
    if (sig !== LOCAL) throw new ZipFormatError(`no ZIP entry header at byte ${this.offset}`);
    if (buf.length < 30) return -1;
    const flags = u16(buf, 6);
    const method = u16(buf, 8);
    const nameLength = u16(buf, 26);
    const extraLength = u16(buf, 28);
    if (buf.length < 30 + nameLength + extraLength) return -1;
    if (flags & 1) throw new ZipFormatError(`entry at byte ${this.offset} is encrypted`);
    const name = new TextDecoder(flags & 0x800 ? "utf-8" : "latin1").decode(buf.subarray(30, 30 + nameLength));
    const extra = buf.subarray(30 + nameLength, 30 + nameLength + extraLength);
    const zip64 = zip64Sizes(extra, u32(buf, 22), u32(buf, 18));
    const out = this.entry(name, method);
    if (flags & 8) this.state = { at: "described", seen: 0, zip64: zip64 !== null, out };
    else {
      const size = zip64?.compressed ?? u32(buf, 18);
      this.state = { at: "sized", left: size, out };
      if (size === 0) {
        out.push(new Uint8Array(0), true);
        this.state = { at: "header" };
      }
    }
    return 30 + nameLength + extraLength;
  }

  /** Bytes of an entry of unknown length: everything up to a descriptor that matches what was read. */
  private described(state: Extract<State, { at: "described" }>, buf: Uint8Array): number {
    const bare = state.zip64 ? 20 : 12;
    for (let i = 0; i + bare + 4 <= buf.length; i++) {
      // Cheap first: a descriptor starts with its signature, or a bare one is followed by a header's.
      const candidate = (buf[i] === 0x50 && buf[i + 1] === 0x4b) || (buf[i + bare] === 0x50 && buf[i + bare + 1] === 0x4b);
      const length = candidate ? descriptorAt(buf, i, state.seen + i, state.zip64) : 0;
      if (length > 0) {
        state.out.push(buf.subarray(0, i), true);
        this.state = { at: "header" };
        return i + length;
      }
    }
    const forward = Math.max(0, buf.length - HOLD_BACK);
    if (forward === 0) return -1;
    state.out.push(buf.subarray(0, forward), false);
    state.seen += forward;
    return forward;
  }

  private entry(name: string, method: number): EntryOut {
    this.sink.start(name);
    if (method === 0) {
      return {
        name,
        push: (bytes, final) => {
          if (bytes.length) this.sink.data(bytes);
          if (final) this.sink.end();
        },
      };
    }
    if (method !== 8) throw new ZipFormatError(`${name}: compression method ${method} is not supported (stored or deflated only)`);
    const inflate = new Inflate((data, final) => {
      if (data.length) this.sink.data(data);
      if (final) this.sink.end();
    });
    return {
      name,
      push: (bytes, final) => {
        try {
          inflate.push(bytes, final);
        } catch (err) {
          throw new ZipFormatError(`${name}: ${(err as Error).message}`);
        }
      },
    };
  }
}

/**
 * The length of the data descriptor at `i` when one stands there that closes an entry of `seen`
 * compressed bytes: with its signature (16 or 24 bytes), or without it (12 or 20) when the next
 * header follows it. 0 when none does.
 */
function descriptorAt(buf: Uint8Array, i: number, seen: number, zip64: boolean): number {
  const size = zip64 ? 8 : 4;
  const read = (at: number) => (zip64 ? u64(buf, at) : u32(buf, at));
  const expected = zip64 ? seen : seen % 2 ** 32;
  const withSig = 8 + 2 * size;
  if (i + withSig <= buf.length && u32(buf, i) === DESCRIPTOR && read(i + 8) === expected) return withSig;
  const bare = 4 + 2 * size;
  if (i + bare + 4 <= buf.length && read(i + 4) === expected) {
    const next = u32(buf, i + bare);
    if (next === LOCAL || CENTRAL.includes(next)) return bare;
  }
  return 0;
}

/** The ZIP64 extra field's sizes, present when the header's 32-bit fields say 0xFFFFFFFF. */
function zip64Sizes(extra: Uint8Array, size32: number, compressed32: number): { compressed: number } | null {
  for (let i = 0; i + 4 <= extra.length; ) {
    const id = u16(extra, i);
    const len = u16(extra, i + 2);
    if (id === 0x0001) {
      let at = i + 4;
      if (size32 === 0xffffffff) at += 8;
      const compressed = compressed32 === 0xffffffff && at + 8 <= i + 4 + len ? u64(extra, at) : compressed32;
      return { compressed };
    }
    i += 4 + len;
  }
  return null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
