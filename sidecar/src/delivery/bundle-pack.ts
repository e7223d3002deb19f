import { ByteWriter } from "./byte-writer";

/** A record ready to deliver: its `_dock.id`, its envelope line and the stream it belongs to. */
export interface OutRecord {
  stream: string;
  id: string;
  line: string;
}

export interface BundleHead {
  source: string;
  stream: string;
  pattern: "cdc" | "full_refresh" | "poll";
  received_at: string;
  run_id: string;
  snapshot?: { run_id: string; part: number };
}

/** The Worker's queue takes about 120 KB a message; we stay under 110 KB and the Worker re-packs above. */
export const BUNDLE_BYTES = 110_000;

const OPEN_BODY = Buffer.from('{"bundles":[');
const CLOSE = Buffer.from("]}");
const COMMA = Buffer.from(",");

function bundlePrefix(head: BundleHead): Buffer {
  return Buffer.from(`{"kind":"bundle","v":1,${JSON.stringify(head).slice(1, -1)},"dedupe":"bundle","records":[`, "utf8");
}

/**
 * The records of one stream encoded as a bundle lists them (`{"id":"…","line":"…"}`), back to
 * back with a comma after each. Encoders write a record into `w` and call `close()`; `ends[i]`
 * is where record i ends, before its comma. Reusable after `clear()`.
 */
export class StreamRecords {
  readonly w: ByteWriter;
  readonly ends: number[];

  constructor(initialBytes = 64 * 1024, w?: ByteWriter, ends?: number[]) {
    this.w = w ?? new ByteWriter(initialBytes);
    this.ends = ends ?? [];
  }

  /** Records encoded elsewhere (another thread): the bytes and where each record ends. */
  static over(buf: Buffer, pos: number, ends: ArrayLike<number>): StreamRecords {
    return new StreamRecords(0, ByteWriter.over(buf, pos), Array.from(ends));
  }

  get count(): number {
    return this.ends.length;
  }

  get bytes(): number {
    return this.w.pos;
  }

  /** Ends the record just written; returns its size in bytes with its comma. */
  close(start: number): number {
    this.ends.push(this.w.pos);
    this.w.byte(0x2c);
    return this.w.pos - start;
  }

  /** A record built as an envelope line (schema and truncate records, snapshots, polls, MongoDB). */
  addLine(id: string, line: string): number {
    const start = this.w.pos;
    this.w.ascii(`{"id":"${id}","line":`);
    this.w.utf8(JSON.stringify(line));
    this.w.byte(0x7d);
    return this.close(start);
  }

  clear(): void {
    this.w.pos = 0;
    this.ends.length = 0;
  }

  /**
   * The pieces of each bundle — its prefix, a view of its records, `]}` — each bundle at most
   * `limit` bytes unless one record alone is larger (it goes alone; the Worker claim-checks it).
   * `headOf(i)` is the i-th bundle's head. Views are valid until this is written again.
   */
  groups(headOf: (i: number) => BundleHead, limit = BUNDLE_BYTES): Buffer[][] {
    const out: Buffer[][] = [];
    const ends = this.ends;
    let start = 0;
    for (let i = 0; i < ends.length; ) {
      const prefix = bundlePrefix(headOf(out.length));
      const room = limit - prefix.length - CLOSE.length;
      let end = ends[i++] as number;
      while (i < ends.length && (ends[i] as number) - start <= room) end = ends[i++] as number;
      out.push([prefix, this.w.buf.subarray(start, end), CLOSE]);
      start = end + 1;
    }
    return out;
  }

  bundles(headOf: (i: number) => BundleHead, limit = BUNDLE_BYTES): Buffer[] {
    return this.groups(headOf, limit).map((g) => Buffer.concat(g));
  }
}

/** Bundles of string-built records, all with the same head. */
export function packStream(head: BundleHead, records: { id: string; line: string }[], limit = BUNDLE_BYTES): Buffer[] {
  const s = new StreamRecords();
  for (const r of records) s.addLine(r.id, r.line);
  return s.bundles(() => head, limit);
}

/** Snapshot parts: one bundle is one part, numbered from the head's `snapshot.part`. */
export function partHeads(head: BundleHead & { snapshot: { run_id: string; part: number } }): (i: number) => BundleHead {
  return (i) => ({ ...head, snapshot: { run_id: head.snapshot.run_id, part: head.snapshot.part + i } });
}

/**
 * `{"bundles":[…]}` as the pieces of a request body, from whole bundles or bundle pieces: nothing
 * is copied, so the buffers they view must stay untouched until the delivery is answered.
 */
export function deliveryBody(bundles: (Buffer | Buffer[])[]): Buffer[] {
  const pieces: Buffer[] = [OPEN_BODY];
  bundles.forEach((b, i) => {
    if (i > 0) pieces.push(COMMA);
    if (Array.isArray(b)) pieces.push(...b);
    else pieces.push(b);
  });
  pieces.push(CLOSE);
  return pieces;
}
