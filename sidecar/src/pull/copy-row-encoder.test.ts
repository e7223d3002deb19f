import { describe, expect, it } from "vitest";
import { envelopeLine } from "../../../src/envelope/envelope";
import { dockIdSync } from "../cdc/dock-id";
import { StreamRecords } from "../delivery/bundle-pack";
import { CopyRowEncoder } from "./copy-row-encoder";
import { keyText, rowJson } from "./pull-target";

const AT = "2026-11-25T08:00:00.000Z";
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v" };

/** A value as COPY … TO STDOUT prints it. */
const copyField = (v: string | null) => (v === null ? "\\N" : v.replace(/[\\\t\n\r\b\f\v]/g, (c) => COPY_ESCAPES[c] as string));

function texts(r: StreamRecords): string[] {
  let start = 0;
  return r.ends.map((end) => {
    const t = r.w.buf.toString("utf8", start, end);
    start = end + 1;
    return t;
  });
}

/** The contract's record for a full-refresh row, through envelopeLine. */
function expected(o: { source: string; stream: string; runId: string; columns: string[] }, key: string, values: (string | null)[]): string {
  const id = dockIdSync(o.source, o.stream, key, o.runId);
  const line = envelopeLine(
    {
      id,
      source: o.source,
      stream: o.stream,
      pattern: "full_refresh",
      key,
      version: o.runId,
      op: "snapshot",
      received_at: AT,
      run_id: o.runId,
      extra: {},
    },
    { json: rowJson(o.columns, values) },
  );
  return `{"id":"${id}","line":${JSON.stringify(line)}}`;
}

const CHARS = ["a", "7", " ", '"', "\\", "\t", "\n", "\r", "\b", "\u0001", "é", "😀", "\u2028", "N"];

describe("CopyRowEncoder", () => {
  it("given rows with escapes, NULLs, quotes and unicode, split into chunks at every kind of byte position, when encoded, then every record is what envelopeLine makes of the row", () => {
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (const keyCols of [[0], [0, 2], []]) {
      const o = { source: "app_db", stream: "public.countries", runId: "refresh-ß-1", columns: ["code", 'na"me', "note"] };
      const ctidFirst = keyCols.length === 0;
      const rows: (string | null)[][] = [];
      const ctids: string[] = [];
      for (let i = 0; i < 300; i++) {
        const value = () => {
          if (rand() < 0.1) return null;
          let s = "";
          for (let n = Math.floor(rand() * 10); n > 0; n--) s += CHARS[Math.floor(rand() * CHARS.length)];
          return s;
        };
        rows.push([`k${i}${rand() < 0.2 ? "\\é" : ""}`, value(), value()]);
        ctids.push(`(0,${i + 1})`);
      }
      const lines = rows.map((r, i) => [...(ctidFirst ? [ctids[i] as string] : []), ...r.map(copyField)].join("\t"));
      const bytes = Buffer.from(`${lines.join("\n")}\n`, "utf8");
      const enc = new CopyRowEncoder({ ...o, keyIndexes: keyCols, ctidFirst, receivedAt: () => AT });
      const out = new StreamRecords(64);
      let written = 0;
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(rand() * 200);
        written += enc.push(bytes.subarray(at, at + n), out);
        at += n;
      }
      written += enc.end(out);
      expect(written).toBe(rows.length);
      const want = rows.map((r, i) => expected(o, ctidFirst ? `ctid:${ctids[i]}` : keyText(keyCols.map((k) => r[k] ?? null)), r));
      expect(texts(out)).toEqual(want);
    }
  });

  it("given a last row without its newline, when the copy ends, then it is encoded too", () => {
    const o = { source: "s", stream: "public.t", runId: "r", columns: ["id"] };
    const enc = new CopyRowEncoder({ ...o, keyIndexes: [0], ctidFirst: false, receivedAt: () => AT });
    const out = new StreamRecords(64);
    expect(enc.push(Buffer.from("1\n2"), out)).toBe(1);
    expect(enc.end(out)).toBe(1);
    expect(texts(out)).toEqual([expected(o, "1", ["1"]), expected(o, "2", ["2"])]);
  });

  it("given escapes COPY TO never writes (octal, hex, a stray backslash), when encoded, then they read as COPY FROM would read them", () => {
    const o = { source: "s", stream: "public.t", runId: "r", columns: ["id", "v"] };
    const enc = new CopyRowEncoder({ ...o, keyIndexes: [0], ctidFirst: false, receivedAt: () => AT });
    const out = new StreamRecords(64);
    enc.push(Buffer.from("1\t\\101\\x42\\q\n"), out);
    expect(texts(out)).toEqual([expected(o, "1", ["1", "ABq"])]);
  });

  it("given bytes that are not UTF-8 (a SQL_ASCII database), in the key and in a value, when encoded, then they read as UTF-8 decoding with replacement reads them", () => {
    const o = { source: "s", stream: "public.t", runId: "r", columns: ["id", "v"] };
    const enc = new CopyRowEncoder({ ...o, keyIndexes: [0], ctidFirst: false, receivedAt: () => AT });
    const out = new StreamRecords(64);
    const bad = Buffer.from([0x61, 0xff, 0xc3, 0x22]);
    enc.push(Buffer.concat([bad, Buffer.from("\t"), bad, Buffer.from("\\t\n")]), out);
    const text = bad.toString("utf8");
    expect(texts(out)).toEqual([expected(o, text, [text, `${text}\t`])]);
  });

  it("given a row with too many or too few fields, when encoded, then it fails saying so", () => {
    const enc = new CopyRowEncoder({
      source: "s",
      stream: "t",
      runId: "r",
      columns: ["a", "b"],
      keyIndexes: [0],
      ctidFirst: false,
      receivedAt: () => AT,
    });
    const out = new StreamRecords(64);
    expect(() => enc.push(Buffer.from("1\t2\t3\n"), out)).toThrow(/more fields than the 2 expected/);
    expect(() => enc.push(Buffer.from("1\n"), out)).toThrow(/1 fields, expected 2/);
  });
});
