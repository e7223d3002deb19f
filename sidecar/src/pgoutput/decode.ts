import { type PgoutputMessage, type RelationColumn, type TupleData, UNCHANGED_TOAST } from "./messages";

/** Reads big-endian fields and NUL-terminated strings from one pgoutput message. */
class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }
  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new PgoutputError("unterminated string");
    const s = this.buf.toString("utf8", this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  text(n: number): string {
    this.need(n);
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new PgoutputError(`message truncated at byte ${this.pos}`);
  }
}

export class PgoutputError extends Error {
  override name = "PgoutputError";
}

function tuple(r: Reader): TupleData {
  const n = r.i16();
  const out: TupleData = new Array(n);
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    if (kind === 0x6e /* n */) out[i] = null;
    else if (kind === 0x75 /* u */) out[i] = UNCHANGED_TOAST;
    else if (kind === 0x74 /* t */) out[i] = r.text(r.i32());
    else if (kind === 0x62 /* b */) throw new PgoutputError("binary tuple data is not supported; start replication without binary 'true'");
    else throw new PgoutputError(`unknown tuple column kind 0x${kind.toString(16)}`);
  }
  return out;
}

function oldKind(byte: number): "K" | "O" {
  if (byte === 0x4b) return "K";
  if (byte === 0x4f) return "O";
  throw new PgoutputError(`expected 'K' or 'O', got 0x${byte.toString(16)}`);
}

/** Decodes one pgoutput (proto_version 1, non-streaming) message: the payload of an XLogData. */
export function decodePgoutput(buf: Buffer): PgoutputMessage {
  const r = new Reader(buf);
  const tag = r.u8();
  switch (tag) {
    case 0x42 /* B */:
      return { tag: "begin", finalLsn: r.u64(), commitTime: r.i64(), xid: r.u32() };
    case 0x43 /* C */:
      return { tag: "commit", flags: r.u8(), commitLsn: r.u64(), endLsn: r.u64(), commitTime: r.i64() };
    case 0x4f /* O */:
      return { tag: "origin", lsn: r.u64(), name: r.cstring() };
    case 0x52 /* R */:
      {
        const relationId = r.u32();
        const schema = r.cstring();
        const name = r.cstring();
        const replicaIdentity = String.fromCharCode(r.u8());
        const n = r.i16();
        const columns: RelationColumn[] = [];
        for (let i = 0; i < n; i++) {
          const flags = r.u8();
          columns.push({ isKey: (flags & 1) === 1, name: r.cstring(), typeOid: r.u32(), typeMod: r.i32() });
        }
        return { tag: "relation", relationId, schema, name, replicaIdentity, columns };
      }
    case 0x59 /* Y */:
      return { tag: "type", typeOid: r.u32(), schema: r.cstring(), name: r.cstring() };
    case 0x49 /* I */:
      {
        const relationId = r.u32();
        const n = r.u8();
        if (n !== 0x4e) throw new PgoutputError(`insert: expected 'N', got 0x${n.toString(16)}`);
        return { tag: "insert", relationId, newTuple: tuple(r) };
      }
    case 0x55 /* U */:
      {
        const relationId = r.u32();
        let kind = r.u8();
        let old: "K" | "O" | null = null;
        let oldTuple: TupleData | null = null;
        if (kind !== 0x4e) {
          old = oldKind(kind);
          oldTuple = tuple(r);
          kind = r.u8();
        }
        if (kind !== 0x4e) throw new PgoutputError(`update: expected 'N', got 0x${kind.toString(16)}`);
        return { tag: "update", relationId, oldKind: old, oldTuple, newTuple: tuple(r) };
      }
    case 0x44 /* D */:
      {
        const relationId = r.u32();
        const kind = oldKind(r.u8());
        return { tag: "delete", relationId, oldKind: kind, oldTuple: tuple(r) };
      }
    case 0x54 /* T */:
      {
        const n = r.i32();
        const options = r.u8();
        const relationIds: number[] = [];
        for (let i = 0; i < n; i++) relationIds.push(r.u32());
        return { tag: "truncate", cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2, relationIds };
      }
    case 0x4d /* M */:
      {
        const flags = r.u8();
        const lsn = r.u64();
        const prefix = r.cstring();
        const content = Buffer.from(r.bytes(r.i32()));
        return { tag: "message", transactional: (flags & 1) === 1, lsn, prefix, content };
      }
    default:
      throw new PgoutputError(`unknown pgoutput message '${String.fromCharCode(tag)}' (0x${tag.toString(16)})`);
  }
}

/** Postgres timestamps count microseconds from 2000-01-01; this renders them as ISO 8601 with microseconds. */
const PG_EPOCH_MS = 946_684_800_000n;
export function pgTimeToIso(micros: bigint): string {
  const ms = micros / 1000n + PG_EPOCH_MS;
  const iso = new Date(Number(ms)).toISOString();
  const extra = ((micros % 1000n) + 1000n) % 1000n;
  return `${iso.slice(0, 23)}${extra.toString().padStart(3, "0")}Z`;
}
