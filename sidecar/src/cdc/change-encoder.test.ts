import { describe, expect, it } from "vitest";
import { envelopeLine } from "../../../src/envelope/envelope";
import { StreamRecords } from "../delivery/bundle-pack";
import { ByteWriter } from "../delivery/byte-writer";
import { formatLsn } from "../lsn";
import { decodePgoutput, PgoutputError } from "../pgoutput/decode";
import { type PgoutputMessage, type TupleData, UNCHANGED_TOAST } from "../pgoutput/messages";
import { seeded } from "../../../src/lib/seeded";
import { Msg } from "../../test/helpers/pgoutput-message";
import { ChangeEncoder } from "./change-encoder";
import type { TxContext } from "./change-records";
import { dockIdSync } from "./dock-id";
import { RelationCache, type RelationInfo } from "./relations";

const SOURCE = "app_db";
const RUN = "run-ü-1";
const AT = "2026-11-25T08:00:00.000Z";

/** A sink holding one stream's records, as the batch pipeline does. */
function aSink() {
  const byStream = new Map<string, StreamRecords>();
  let bytes = 0;
  return {
    records: (stream: string) => {
      const r = byStream.get(stream) ?? new StreamRecords(256);
      byStream.set(stream, r);
      return r;
    },
    added: (n: number) => {
      bytes += n;
    },
    /** Every record written, as text, in order. */
    texts(): string[] {
      return [...byStream.values()].flatMap((r) => {
        let start = 0;
        return r.ends.map((end) => {
          const text = r.w.buf.toString("utf8", start, end);
          start = end + 1;
          return text;
        });
      });
    },
    get bytes() {
      return bytes;
    },
  };
}

/** What the contract says a change's record is, from the decoded message, through envelopeLine. */
function expectedRecord(rel: RelationInfo, m: PgoutputMessage, version: string, lsnText: string, tx: TxContext): string {
  if (m.tag !== "insert" && m.tag !== "update" && m.tag !== "delete") throw new Error("not a change");
  const row: TupleData = m.tag === "delete" ? m.oldTuple : m.newTuple;
  const onlyKey = m.tag === "delete" && m.oldKind === "K";
  const ks = rel.keyIndexes;
  const text = (t: TupleData, i: number) => (typeof t[i] === "string" ? (t[i] as string) : null);
  const key =
    ks.length === 1 && typeof row[ks[0] as number] === "string"
      ? (row[ks[0] as number] as string)
      : ks.length === 0
        ? ""
        : JSON.stringify(ks.map((i) => text(row, i)));
  const fields = (t: TupleData, keyOnly: boolean) => {
    const idx = keyOnly ? ks : t.map((_, i) => i);
    return idx.filter((i) => t[i] !== UNCHANGED_TOAST).map((i) => [rel.columns[i]?.name as string, text(t, i)] as const);
  };
  const json = (pairs: readonly (readonly [string, string | null])[]) =>
    `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
  const extra: Record<string, unknown> = { lsn: lsnText, commit_lsn: tx.commitLsnText, xid: tx.xid, commit_time: tx.commitTime };
  if (onlyKey) extra.old_tuple = "key";
  const idx = onlyKey ? ks : row.map((_, i) => i);
  const unchanged = idx.filter((i) => row[i] === UNCHANGED_TOAST).map((i) => rel.columns[i]?.name);
  if (unchanged.length > 0) extra.unchanged_toast = unchanged;
  if (m.tag === "update" && m.oldTuple && m.oldKind) {
    extra.old_tuple = m.oldKind === "K" ? "key" : "full";
    extra.old = JSON.parse(json(fields(m.oldTuple, m.oldKind === "K")));
  }
  const id = dockIdSync(SOURCE, rel.stream, key, version);
  const line = envelopeLine(
    {
      id,
      source: SOURCE,
      stream: rel.stream,
      pattern: "cdc",
      key,
      version,
      op: m.tag,
      received_at: AT,
      run_id: RUN,
      extra: extra as Record<string, string>,
    },
    { json: json(fields(row, onlyKey)) },
  );
  return `{"id":"${id}","line":${JSON.stringify(line)}}`;
}

const CHARS = [
  "a",
  "Z",
  "0",
  " ",
  '"',
  "\\",
  "/",
  "\n",
  "\t",
  "\r",
  "\b",
  "\f",
  "\u0000",
  "\u001f",
  "\u007f",
  "é",
  "ß",
  "😀",
  "\u2028",
  "{",
  "}",
  ":",
  ",",
];
const NAMES = ["id", "region", 'note "q"', "back\\slash", "üñí", "tab\there", "body"];

function randomText(r: () => number): string {
  let s = "";
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += CHARS[Math.floor(r() * CHARS.length)];
  return s;
}

describe("ChangeEncoder", () => {
  it("given 3,000 random inserts, updates and deletes (quotes, backslashes, control characters, unicode, bad UTF-8, NULLs, unchanged TOAST, one, two or no key columns, K and O old tuples, repeated LSNs), when encoded, then every record is byte for byte what envelopeLine makes of the decoded change", () => {
    const r = seeded(0x0dd_c0de);
    for (let round = 0; round < 300; round++) {
      const ncols = 1 + Math.floor(r() * 5);
      const names = [...NAMES].sort(() => r() - 0.5).slice(0, ncols);
      const keys = Math.floor(r() * 3);
      const identity = r() < 0.3 ? "f" : "d";
      const cache = new RelationCache();
      const rel = cache.set({
        tag: "relation",
        relationId: 100 + round,
        schema: r() < 0.2 ? "Säles" : "public",
        name: `t_${round}`,
        replicaIdentity: identity,
        columns: names.map((name, i) => ({ isKey: identity === "f" || i < keys, name, typeOid: 25, typeMod: -1 })),
      });
      const sink = aSink();
      const encoder = new ChangeEncoder(SOURCE, RUN, () => AT, new ByteWriter(16));
      const tx: TxContext = { xid: round, commitLsn: 0n, commitLsnText: "1/A0", commitTime: "2026-11-25T07:00:00.000001Z" };
      encoder.beginTransaction(tx);
      const expected: string[] = [];
      let last = "";
      let repeat = 0;
      for (let c = 0; c < 10; c++) {
        const tuple = (m: Msg, allowUnchanged: boolean) => {
          m.i16(ncols);
          for (let i = 0; i < ncols; i++) {
            const x = r();
            if (x < 0.1) m.ch("n");
            else if (x < 0.2 && allowUnchanged && i >= keys) m.ch("u");
            else if (x < 0.25) {
              const bad = Buffer.from([0x61, 0xff, 0xc3, 0x22, 0x80]);
              m.ch("t").i32(bad.length).raw(bad);
            } else m.text(randomText(r));
          }
          return m;
        };
        const kind = Math.floor(r() * 3);
        let m = new Msg();
        if (kind === 0) m = tuple(m.ch("I").i32(rel.relationId).ch("N"), false);
        else if (kind === 1) {
          m.ch("U").i32(rel.relationId);
          const old = r();
          if (old < 0.3) tuple(m.ch("K"), false);
          else if (old < 0.5) tuple(m.ch("O"), false);
          tuple(m.ch("N"), true);
        } else
          m = tuple(
            m
              .ch("D")
              .i32(rel.relationId)
              .ch(r() < 0.5 ? "K" : "O"),
            false,
          );
        const bytes = m.build();
        // Same WAL position now and then: rows of one multi-insert record.
        const hi = r() < 0.2 ? 0x1_0000 : 0;
        const lo = c > 0 && r() < 0.3 ? Number.parseInt(last.split("/")[1] ?? "0", 16) : 0x16b_3748 + c * 0x40;
        const lsnText = formatLsn((BigInt(hi) << 32n) | BigInt(lo));
        if (lsnText === last) repeat++;
        else repeat = 0;
        last = lsnText;
        const version = repeat === 0 ? lsnText : `${lsnText}#${repeat}`;
        // A prefix before the message, as in an XLogData chunk.
        const chunk = Buffer.concat([Buffer.alloc(25, 0x77), bytes]);
        encoder.encode(chunk, 25, hi, lo, (id) => cache.get(id), sink);
        expected.push(expectedRecord(rel, decodePgoutput(bytes), version, lsnText, tx));
      }
      const got = sink.texts();
      expect(got).toEqual(expected);
      for (const text of got) expect(JSON.parse(JSON.parse(text).line)._dock.id).toBe(JSON.parse(text).id);
      expect(sink.bytes).toBe(got.reduce((n, t) => n + Buffer.byteLength(t) + 1, 0));
    }
  });

  it("given malformed change messages, when encoded, then each fails with a clear PgoutputError and writes no record", () => {
    const cache = new RelationCache();
    cache.set({
      tag: "relation",
      relationId: 1,
      schema: "public",
      name: "t",
      replicaIdentity: "d",
      columns: [{ isKey: true, name: "id", typeOid: 23, typeMod: -1 }],
    });
    const sink = aSink();
    const encoder = new ChangeEncoder(SOURCE, RUN, () => AT, new ByteWriter(16));
    encoder.beginTransaction({ xid: 1, commitLsn: 0n, commitLsnText: "0/1", commitTime: AT });
    const encode = (b: Buffer) => () => encoder.encode(b, 0, 0, 1, (id) => cache.get(id), sink);
    expect(encode(new Msg().ch("I").i32(1).ch("N").i16(1).ch("t").i32(10).raw(Buffer.from("abc")).build())).toThrow(/truncated/);
    expect(encode(new Msg().ch("I").i32(1).ch("N").i16(2).text("1").build())).toThrow(/truncated/);
    expect(encode(new Msg().ch("I").i32(1).ch("N").i16(1).ch("t").i32(-5).build())).toThrow(PgoutputError);
    expect(encode(new Msg().ch("I").i32(1).ch("X").build())).toThrow(/expected 'N'/);
    expect(encode(new Msg().ch("I").i32(1).ch("N").i16(1).ch("b").i32(1).u8(1).build())).toThrow(/binary/);
    expect(encode(new Msg().ch("I").i32(1).ch("N").i16(1).ch("?").build())).toThrow(/unknown tuple column kind/);
    expect(encode(new Msg().ch("U").i32(1).ch("K").i16(1).text("1").build())).toThrow(/truncated/);
    expect(encode(new Msg().ch("D").i32(1).ch("X").build())).toThrow(/'K' or 'O'/);
    expect(encode(new Msg().ch("I").i32(1).build())).toThrow(/truncated/);
    expect(encode(new Msg().ch("I").i32(2).ch("N").i16(1).text("1").build())).toThrow(/before its Relation message/);
    expect(encode(new Msg().ch("I").i32(1).ch("N").i16(2).text("1").text("2").build())).toThrow(/more columns than its Relation/);
    expect(sink.texts()).toEqual([]);
    encoder.endTransaction();
    expect(encode(new Msg().ch("I").i32(1).ch("N").i16(1).text("1").build())).toThrow(/outside a transaction/);
  });
});
