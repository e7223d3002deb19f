import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BundleRecord } from "../../src/envelope/bundle";
import type { FileSpec } from "../../src/files/config";
import type { FileContext } from "../../src/files/envelopes";
import type { LedgerRow, ParseState } from "../../src/files/ledger";
import type { Sender } from "../../src/files/sender";
import { textStep } from "../../src/files/text-step";

/**
 * The envelopes of the text parse steps, byte for byte: a digest of every `{id, line}` a set of
 * fixtures gives (at several step sizes), pinned from the code before the parser's fast path. Any
 * change to a row's `_dock.id`, its JSON, its line or the error kept with a bad row changes it.
 */
const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (list: number[]) => Uint8Array.from(list);
const cp1252 = (s: string) => Uint8Array.from([...s].map((c) => ({ "€": 0x80, "’": 0x92, "“": 0x93, "”": 0x94 })[c] ?? c.charCodeAt(0)));

const FIXTURES: { name: string; body: Uint8Array; spec?: Partial<FileSpec> }[] = [
  { name: "bom-crlf.csv", body: enc('\uFEFFid,name,comment\r\n1,Zoë,"two\r\nlines"\r\n\r\n2,"Smith, J.","say ""hi"""\r\n3,,\r\n') },
  { name: "plain.csv", body: enc('a,b,c\n1,"x, y",z\n2,"q""q",\n\n\n3,,"multi\nline"\n4,5,6') },
  { name: "mixed-endings.csv", body: enc('a,b\n1,2\r\n3,"x"\r\n4,5\n\r\n  \n6,7\r8\n"9",10\n') },
  { name: "crlf-first.csv", body: enc('a,b\r\n1,2\n3,4\r\n5,"6\n7"\r\n8,9\n') },
  { name: "cr-only.csv", body: enc('a,b\r1,2\r3,"x\ry"\r4,5') },
  { name: "stray-quotes.csv", body: enc('id,item\n1,5" screen\n2,"abc"def\n3,"ok"\n4,a"b"c\n5,""\n6,"""\n7,8\n') },
  { name: "ragged.csv", body: enc("a,b,c\n1,2\n3,4,5\n6,7,8,9\n,\n10,11,12\n") },
  { name: "unclosed.csv", body: enc('a,b\n1,"open\n2,3\n4,5\n') },
  { name: "unclosed-mid.csv", body: enc('a,b\n1,2\n3,"never closes, 4,5\n6,7\n8,"x\n') },
  { name: "numeric-header.csv", body: enc("2023,2022,name,__proto__,,name\n1,2,3,4,5,6\n") },
  { name: "semicolon.csv", body: enc('a;b;c\n1;2,5;x\n3;4;"y;z"\n') },
  { name: "tab.tsv", body: enc('a\tb\tb\t\n1\t"q\tq"\t"z"\t\n2\t5" x\t\t\n') },
  { name: "utf8-wide.csv", body: enc(`k,v\n${Array.from({ length: 40 }, (_, i) => `${i},"Zoë 😀 ${"é".repeat(i)}\n€"`).join("\n")}\n`) },
  { name: "cp1252.csv", body: cp1252('id,note\n1,“caf\u00e9” costs €5\n2,it’s\n3,"a\u00ff\u0081b"\n'), spec: { encoding: "windows-1252" } },
  { name: "latin1-auto.csv", body: bytes([...enc("id,n\n1,"), 0xe9, 0x80, ...enc('\n2,"'), 0x92, ...enc('"\n')]) },
  { name: "control.csv", body: enc('a,b\n1,"tab\there"\n2,"\u0001\u001f\\u00"\n3,"</script>\u2028\u2029"\n') },
  { name: "blank-tail.csv", body: enc("a,b\n1,2\n\n\r\n   \n\n") },
  { name: "only-header.csv", body: enc("a,b\n") },
  { name: "long.csv", body: enc(`a,b\n1,"${"x,\n".repeat(3000)}"\n2,${"y".repeat(5000)}\n3,3\n`) },
  { name: "pipe.csv", body: enc("a|b\n1|2\n"), spec: { delimiter: "|" } },
  { name: "multi-delim.csv", body: enc('a::b\n1::2\n3::"4::5"\n'), spec: { delimiter: "::" } },
  { name: "rows.jsonl", body: enc('{"a":1}\n\n{"b":"x\\ny"}\r\nnot json\n  {"c":[1,2]}  \n{"d":\n') },
];

function fakeSender(ctx: FileContext) {
  const records: BundleRecord[] = [];
  const sender = {
    ctx,
    async add(_stream: string, record: BundleRecord) {
      records.push(record);
    },
    async flush() {},
  } as unknown as Sender;
  return { sender, records };
}

/** Runs a file's text steps to the end with `stepBytes` windows; every record they build, in order. */
async function stepsOf(fixture: (typeof FIXTURES)[number], stepBytes: number): Promise<BundleRecord[]> {
  const key = `files/source=pin/${fixture.name}`;
  await env.RAW.put(key, fixture.body);
  const format = fixture.name.endsWith(".jsonl") ? "jsonl" : fixture.name.endsWith(".tsv") ? "tsv" : "csv";
  const row = {
    key,
    source: "pin",
    stream: fixture.name.replace(/\..*$/, "").replace(/-/g, "_"),
    name: fixture.name,
    format,
    sha256: "ab".repeat(32),
    size: fixture.body.byteLength,
    run_id: "run-1",
    rows: 0,
    bad_rows: 0,
    parse_offset: 0,
    parse_line: 1,
    landed_at: "2026-12-07T10:00:00.000Z",
  } as LedgerRow;
  const state: ParseState = { spec: { format, gzip: false, encoding: "auto", ...fixture.spec } as FileSpec };
  const ctx: FileContext = { source: row.source, name: row.name, key, sha256: row.sha256, runId: row.run_id, receivedAt: row.landed_at };
  const { sender, records } = fakeSender(ctx);
  const stepEnv = { ...env, FILES_STEP_BYTES: String(stepBytes) } as never;
  for (let i = 0; i < 10_000; i++) {
    const out = await textStep(stepEnv, row, state, sender);
    Object.assign(row, { parse_offset: out.to, parse_line: out.line, rows: out.rows, bad_rows: out.badRows });
    if (out.done) return records;
  }
  throw new Error("no end");
}

async function digest(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("file envelopes, pinned", () => {
  it("given the fixtures at several step sizes, then every row's id and envelope line are those pinned", async () => {
    const all: string[] = [];
    for (const fixture of FIXTURES) {
      for (const stepBytes of [8 * 1024 * 1024, 7, 64, 1000]) {
        const records = await stepsOf(fixture, stepBytes);
        all.push(`${fixture.name} in steps of ${stepBytes}`, ...records.map((r) => `${r.id} ${r.line}`));
      }
    }
    expect(all.length).toBeGreaterThan(200);
    expect(all).toContain(
      '78af13a80930fb80cfe7b52d56506e8b {"_dock":{"id":"78af13a80930fb80cfe7b52d56506e8b","source":"pin","stream":"bom_crlf","pattern":"file","key":"bom-crlf.csv#2","version":"abababababababababababababababababababababababababababababababab","op":"snapshot","received_at":"2026-12-07T10:00:00.000Z","run_id":"run-1","file":"files/source=pin/bom-crlf.csv","line":2},"data":{"id":"1","name":"Zoë","comment":"two\\r\\nlines"}}',
    );
    expect(await digest(all.join("\n"))).toBe("8f3bfb5ea5a19dde7823d96d301fb26805c0aba0cafc727d567c1d4bba9b16b6");
  });
});
