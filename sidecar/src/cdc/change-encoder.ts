import { type ByteWriter, isUtf8Range } from "../delivery/byte-writer";
import type { StreamRecords } from "../delivery/bundle-pack";
import { J, lineFragment } from "../delivery/line-fragment";
import { PgoutputError } from "../pgoutput/decode";
import type { TxContext } from "./change-records";
import { DockIdWriter } from "./dock-id";
import type { RelationInfo } from "./relations";

const T = 0x74; // 't' text value
const N = 0x6e; // 'n' null
const U = 0x75; // 'u' unchanged TOAST
const B = 0x62; // 'b' binary
const NEW = 0x4e; // 'N'
const KEY = 0x4b; // 'K'
const OLD = 0x4f; // 'O'

/** Column spans of one TupleData, read in place: kind byte, and for 't' where its bytes are. */
class TupleSpans {
  n = 0;
  kind = new Uint8Array(64);
  start = new Int32Array(64);
  end = new Int32Array(64);

  read(msg: Buffer, pos: number, limit: number): number {
    if (pos + 2 > limit) throw truncated(pos);
    const n = msg.readInt16BE(pos);
    pos += 2;
    if (n > this.kind.length) {
      this.kind = new Uint8Array(n);
      this.start = new Int32Array(n);
      this.end = new Int32Array(n);
    }
    for (let i = 0; i < n; i++) {
      if (pos >= limit) throw truncated(pos);
      const k = msg[pos++] as number;
      this.kind[i] = k;
      if (k === T) {
        if (pos + 4 > limit) throw truncated(pos);
        const len = msg.readInt32BE(pos);
        pos += 4;
        if (len < 0 || pos + len > limit) throw truncated(pos);
        this.start[i] = pos;
        this.end[i] = pos + len;
        pos += len;
      } else if (k === B) throw new PgoutputError("binary tuple data is not supported; start replication without binary 'true'");
      else if (k !== N && k !== U) throw new PgoutputError(`unknown tuple column kind 0x${k.toString(16)}`);
    }
    this.n = n;
    return pos;
  }

  text(msg: Buffer, i: number): string | null {
    return this.kind[i] === T ? msg.toString("utf8", this.start[i], this.end[i]) : null;
  }
}

const truncated = (pos: number) => new PgoutputError(`message truncated at byte ${pos}`);

/** What a relation contributes to every record: built once per Relation message. */
interface RelationBytes {
  /** `source\nstream\n`, the start of the id's hash input. */
  hashPrefix: Buffer;
  /** From after the id to the key's opening quote. */
  afterId: Buffer;
  /** `\"name\":` per column. */
  columnKeys: Buffer[];
}

const REC_ID = Buffer.from('{"id":"');
const REC_LINE = Buffer.concat([Buffer.from('","line":"'), lineFragment('{"_dock":{"id":"')]);
const VERSION = lineFragment('","version":"');
const QUOTE = lineFragment('"');
const NULL = Buffer.from("null");
const DATA = lineFragment('},"data":');
const END = Buffer.concat([lineFragment("}"), Buffer.from('"}')]);
const OLD_TUPLE_KEY = lineFragment(',"old_tuple":"key"');
const OLD_KEY = lineFragment(',"old_tuple":"key","old":');
const OLD_FULL = lineFragment(',"old_tuple":"full","old":');

export type ChangeOp = "insert" | "update" | "delete";

export interface RecordsSink {
  /** Where the next record of `stream` is written. */
  records(stream: string): StreamRecords;
  /** A record of `bytes` was written. */
  added(bytes: number): void;
}

/**
 * Turns pgoutput Insert, Update and Delete messages into delivery records straight from the
 * message bytes: the row's text values are escaped into the request body without becoming JS
 * strings, and `_dock.id` is hashed from bytes. The envelope is exactly what `envelopeLine` makes
 * of the same facts (change-encoder.test.ts holds it to that); see sidecar/README.md for its
 * fields. One instance per replication session.
 */
export class ChangeEncoder {
  private readonly newTuple = new TupleSpans();
  private readonly oldTuple = new TupleSpans();
  private readonly relationBytes = new WeakMap<RelationInfo, RelationBytes>();
  private readonly opBytes: Record<ChangeOp, Buffer>;
  private readonly hashInput: ByteWriter;
  private readonly ids: DockIdWriter;
  private txBytes: Buffer | null = null;
  private clockText = "";
  private clockBytes = Buffer.alloc(0);
  private lastHi = -1;
  private lastLo = -1;
  private repeat = 0;

  constructor(
    private readonly source: string,
    private readonly runId: string,
    private readonly receivedAt: () => string,
    scratch: ByteWriter,
  ) {
    this.hashInput = scratch;
    this.ids = new DockIdWriter(scratch);
    this.opBytes = {
      insert: lineFragment('","op":"insert","received_at":"'),
      update: lineFragment('","op":"update","received_at":"'),
      delete: lineFragment('","op":"delete","received_at":"'),
    };
  }

  /** Called at Begin: the transaction's facts, and versions restart their `#n` count. */
  beginTransaction(tx: TxContext): void {
    this.txBytes = lineFragment(`","commit_lsn":"${tx.commitLsnText}","xid":${tx.xid},"commit_time":"${tx.commitTime}"`);
    this.lastHi = -1;
    this.lastLo = -1;
    this.repeat = 0;
  }

  endTransaction(): void {
    this.txBytes = null;
  }

  /**
   * Encodes the change in `msg[offset, end)` (its first byte is I, U or D) whose WAL position is
   * `hi/lo`, into the sink's records for its stream. Returns the stream.
   */
  encode(msg: Buffer, offset: number, hi: number, lo: number, relationOf: (id: number) => RelationInfo, sink: RecordsSink): string {
    const limit = msg.length;
    if (offset + 6 > limit) throw truncated(offset);
    const tag = msg[offset] as number;
    const rel = relationOf(msg.readUInt32BE(offset + 1));
    let pos = offset + 5;
    let op: ChangeOp;
    let row = this.newTuple;
    let onlyKey = false;
    let oldKind = 0;
    if (tag === 0x49 /* I */) {
      op = "insert";
      if (msg[pos] !== NEW) throw new PgoutputError(`insert: expected 'N', got 0x${(msg[pos] ?? 0).toString(16)}`);
      this.newTuple.read(msg, pos + 1, limit);
    } else if (tag === 0x55 /* U */) {
      op = "update";
      let k = msg[pos++] as number;
      if (k !== NEW) {
        if (k !== KEY && k !== OLD) throw new PgoutputError(`expected 'K' or 'O', got 0x${k.toString(16)}`);
        oldKind = k;
        pos = this.oldTuple.read(msg, pos, limit);
        if (pos >= limit) throw truncated(pos);
        k = msg[pos++] as number;
      }
      if (k !== NEW) throw new PgoutputError(`update: expected 'N', got 0x${k.toString(16)}`);
      this.newTuple.read(msg, pos, limit);
    } else if (tag === 0x44 /* D */) {
      op = "delete";
      const k = msg[pos++] as number;
      if (k !== KEY && k !== OLD) throw new PgoutputError(`expected 'K' or 'O', got 0x${k.toString(16)}`);
      this.oldTuple.read(msg, pos, limit);
      row = this.oldTuple;
      onlyKey = k === KEY;
    } else throw new PgoutputError(`not a change message: 0x${tag.toString(16)}`);
    if (!this.txBytes) throw new Error(`change at ${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()} outside a transaction`);
    if (row.n > rel.columns.length || (oldKind !== 0 && this.oldTuple.n > rel.columns.length))
      throw new Error(`tuple of ${rel.stream} has more columns than its Relation message`);

    const rb = this.bytesOf(rel);
    if (hi === this.lastHi && lo === this.lastLo) this.repeat++;
    else {
      this.lastHi = hi;
      this.lastLo = lo;
      this.repeat = 0;
    }

    // The key: one identity column's bytes as they are, or (rarely) a string.
    const ks = rel.keyIndexes;
    const k0 = ks[0] as number;
    const simpleKey =
      ks.length === 1 && k0 < row.n && row.kind[k0] === T && isUtf8Range(msg, row.start[k0] as number, row.end[k0] as number);
    const keyText = simpleKey ? null : compositeKey(ks, msg, row);

    const h = this.hashInput;
    h.pos = 0;
    h.bytes(rb.hashPrefix);
    if (keyText === null) h.range(msg, row.start[k0] as number, row.end[k0] as number);
    else h.utf8(keyText);
    h.byte(0x0a);
    const versionStart = h.pos;
    h.hexUpper(hi);
    h.byte(0x2f);
    h.hexUpper(lo);
    const lsnEnd = h.pos;
    if (this.repeat > 0) h.ascii(`#${this.repeat}`);

    const out = sink.records(rel.stream);
    const w = out.w;
    const start = w.pos;
    w.bytes(REC_ID);
    w.ensure(32);
    const idAt = w.pos;
    w.pos = this.ids.write(w.buf, w.pos);
    w.bytes(REC_LINE);
    w.range(w.buf, idAt, idAt + 32);
    w.bytes(rb.afterId);
    if (keyText === null) w.twiceEscaped(msg, row.start[k0] as number, row.end[k0] as number);
    else w.twiceEscapedString(keyText);
    w.bytes(VERSION);
    w.range(h.buf, versionStart, h.pos);
    w.bytes(this.opBytes[op]);
    w.bytes(this.clock());
    w.range(h.buf, versionStart, lsnEnd);
    w.bytes(this.txBytes);
    if (onlyKey) w.bytes(OLD_TUPLE_KEY);
    const unchanged = unchangedColumns(rel, row, onlyKey);
    if (unchanged) w.bytes(lineFragment(`,"unchanged_toast":${JSON.stringify(unchanged)}`));
    if (oldKind !== 0) {
      w.bytes(oldKind === KEY ? OLD_KEY : OLD_FULL);
      writeRow(w, rel, rb, msg, this.oldTuple, oldKind === KEY);
    }
    w.bytes(DATA);
    writeRow(w, rel, rb, msg, row, onlyKey);
    w.bytes(END);
    sink.added(out.close(start));
    return rel.stream;
  }

  private clock(): Buffer {
    const now = this.receivedAt();
    if (now !== this.clockText) {
      this.clockText = now;
      this.clockBytes = Buffer.concat([Buffer.from(now, "latin1"), lineFragment(`","run_id":${J(this.runId)},"lsn":"`)]);
    }
    return this.clockBytes;
  }

  private bytesOf(rel: RelationInfo): RelationBytes {
    let rb = this.relationBytes.get(rel);
    if (!rb) {
      rb = {
        hashPrefix: Buffer.from(`${this.source}\n${rel.stream}\n`, "utf8"),
        afterId: lineFragment(`","source":${J(this.source)},"stream":${J(rel.stream)},"pattern":"cdc","key":"`),
        columnKeys: rel.columns.map((c) => lineFragment(`${J(c.name)}:`)),
      };
      this.relationBytes.set(rel, rb);
    }
    return rb;
  }
}

/**
 * `{"col":"text",…}` of a tuple in column order: NULL as null, unchanged TOASTed columns left
 * out (they are named in `unchanged_toast`); with `onlyKey`, the identity columns only — what a
 * 'K' old tuple really carries.
 */
function writeRow(w: ByteWriter, rel: RelationInfo, rb: RelationBytes, msg: Buffer, t: TupleSpans, onlyKey: boolean): void {
  w.byte(0x7b);
  const n = onlyKey ? rel.keyIndexes.length : t.n;
  let first = true;
  for (let j = 0; j < n; j++) {
    const i = onlyKey ? (rel.keyIndexes[j] as number) : j;
    const kind = i < t.n ? t.kind[i] : N;
    if (kind === U) continue;
    if (!first) w.byte(0x2c);
    first = false;
    w.bytes(rb.columnKeys[i] as Buffer);
    if (kind === T) {
      w.bytes(QUOTE);
      w.twiceEscaped(msg, t.start[i] as number, t.end[i] as number);
      w.bytes(QUOTE);
    } else w.bytes(NULL);
  }
  w.byte(0x7d);
}

function unchangedColumns(rel: RelationInfo, t: TupleSpans, onlyKey: boolean): string[] | null {
  const names: string[] = [];
  const n = onlyKey ? rel.keyIndexes.length : t.n;
  for (let j = 0; j < n; j++) {
    const i = onlyKey ? (rel.keyIndexes[j] as number) : j;
    if (i < t.n && t.kind[i] === U) names.push(rel.columns[i]?.name ?? String(i));
  }
  return names.length > 0 ? names : null;
}

/**
 * The key when it is not one text column: a JSON array of the identity columns' text values
 * (`["42","eu"]`, null where not text); empty for a table without identity columns.
 */
function compositeKey(ks: number[], msg: Buffer, t: TupleSpans): string {
  if (ks.length === 0) return "";
  if (ks.length === 1) {
    const v = (ks[0] as number) < t.n ? t.text(msg, ks[0] as number) : null;
    if (v !== null) return v;
  }
  return JSON.stringify(ks.map((i) => (i < t.n ? t.text(msg, i) : null)));
}
