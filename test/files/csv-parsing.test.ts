import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { filesEnv, freshSource, gzipBytes, heldJobs, latin1, putFile, runHeldSteps, streamEnvelopes, waitParsed } from "./helpers";

const utf8 = (s: string) => new TextEncoder().encode(s);
/** Text as Windows-1252 bytes, from the code page's own table (for the characters these tests use). */
const CP1252: Record<string, number> = { "€": 0x80, "‘": 0x91, "’": 0x92, "“": 0x93, "”": 0x94, "–": 0x96, Œ: 0x8c, œ: 0x9c };
const cp1252 = (s: string) =>
  Uint8Array.from(
    [...s].map(
      (c) => CP1252[c] ?? (c.charCodeAt(0) < 0x100 && (c.charCodeAt(0) < 0x80 || c.charCodeAt(0) >= 0xa0) ? c.charCodeAt(0) : Number.NaN),
    ),
  );

async function drop(source: string, name: string, body: Uint8Array | string, over: Record<string, unknown> = {}) {
  const res = await putFile(source, name, body, { env: filesEnv(source, over) });
  const json = (await res.json()) as { key: string; status: string };
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

describe("CSV and TSV parsing", () => {
  it("given a UTF-8 file with a BOM, quoted newlines, CRLF and blank lines, then each row lands once with its header names and its first line", async () => {
    const source = freshSource();
    const text = '\uFEFFid,name,comment\r\n1,Zoë,"two\r\nlines"\r\n\r\n2,"Smith, J.","say ""hi"""\r\n3,,\r\n';
    const { key } = await drop(source, "customers.csv", text);
    const ledger = await waitParsed(key);
    expect(ledger).toMatchObject({ status: "parsed", rows: 3, bad_rows: 0, bytes: utf8(text).byteLength });
    const envelopes = await streamEnvelopes(source, "customers", 3);
    expect(envelopes.map((e) => e.data)).toEqual([
      { id: "1", name: "Zoë", comment: "two\r\nlines" },
      { id: "2", name: "Smith, J.", comment: 'say "hi"' },
      { id: "3", name: "", comment: "" },
    ]);
    expect(envelopes.map((e) => e._dock.line)).toEqual([2, 5, 6]);
    expect(envelopes[0]?._dock).toMatchObject({ source, stream: "customers", pattern: "file", op: "snapshot", file: key });
  });

  it("given values that look like numbers, dates or booleans, then they stay the exact strings of the file", async () => {
    const source = freshSource();
    const { key } = await drop(source, "amounts.csv", "id,amount,big,flag,when\n007,1.50,9007199254740993,TRUE,2026-11-25\n");
    await waitParsed(key);
    const [row] = await streamEnvelopes(source, "amounts", 1);
    expect(row?.data).toEqual({ id: "007", amount: "1.50", big: "9007199254740993", flag: "TRUE", when: "2026-11-25" });
  });

  it("given a Latin-1 file without a BOM, when the encoding is detected, then accents survive", async () => {
    const source = freshSource();
    const { key } = await drop(source, "clients.csv", latin1("nom;ville\nRené;Besançon\nJosé;Málaga\n"));
    const ledger = await waitParsed(key);
    expect(JSON.parse(ledger.state ?? "{}")).toMatchObject({ encoding: "windows-1252", delimiter: ";" });
    const rows = await streamEnvelopes(source, "clients", 2);
    expect(rows.map((r) => r.data)).toEqual([
      { nom: "René", ville: "Besançon" },
      { nom: "José", ville: "Málaga" },
    ]);
  });

  it("given an Excel CSV in Windows-1252 without a BOM (€, curly quotes, é), when the encoding is detected, then every character survives, in rows and in rows kept raw", async () => {
    const source = freshSource();
    // Windows-1252 bytes: € 0x80, ‘ ’ 0x91 0x92, “ ” 0x93 0x94, – 0x96, é 0xE9, œ 0x9C.
    const bytes = cp1252("produit;prix;note\r\nCafé crème;€3,50;“le meilleur” – l’avis\r\nŒuf;€0,20\r\n");
    expect(bytes).toContain(0x80);
    const { key } = await drop(source, "ventes.csv", bytes);
    const ledger = await waitParsed(key);
    expect(JSON.parse(ledger.state ?? "{}")).toMatchObject({ encoding: "windows-1252", delimiter: ";" });
    expect(ledger).toMatchObject({ rows: 1, bad_rows: 1 });
    const rows = await streamEnvelopes(source, "ventes", 2);
    expect(rows.map((r) => r.data ?? r.raw)).toEqual([
      { produit: "Café crème", prix: "€3,50", note: "“le meilleur” – l’avis" },
      "Œuf;€0,20",
    ]);
  });

  it("given a source that declares windows-1252 for a file that is plain ASCII for its first step, then the € further on is read right", async () => {
    const source = freshSource();
    const lines = ["id,amount"];
    for (let i = 1; i <= 40; i++) lines.push(`${i},${i}.00`);
    lines.push("41,€41 “net”");
    const bytes = cp1252(`${lines.join("\n")}\n`);
    const config = { [source]: { rules: [{ match: "late_*.csv", encoding: "windows-1252" }] } };
    const held = heldJobs();
    const stepEnv = filesEnv(source, { JOBS: held.queue, FILES_STEP_BYTES: "64", FILES_CONFIG: JSON.stringify(config) });
    const { key } = (await (await putFile(source, "late_euro.csv", bytes, { env: stepEnv })).json()) as { key: string };
    expect(await runHeldSteps(held, stepEnv)).toBeGreaterThan(3);
    expect(await waitParsed(key)).toMatchObject({ status: "parsed", rows: 41 });
    const rows = await streamEnvelopes(source, "late_euro", 41);
    expect(rows.at(-1)?.data).toEqual({ id: "41", amount: "€41 “net”" });
  });

  it("given ragged rows, then each is kept raw with its error and the rows after them still parse", async () => {
    const source = freshSource();
    const text = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n";
    const { key } = await drop(source, "ragged.csv", text);
    const ledger = await waitParsed(key);
    expect(ledger).toMatchObject({ rows: 2, bad_rows: 2 });
    const rows = await streamEnvelopes(source, "ragged", 4);
    expect(rows.map((r) => [r._dock.line, r.data ?? r.raw, r._dock.error ?? null])).toEqual([
      [2, { a: "1", b: "2", c: "3" }, null],
      [3, "4,5", "row has 2 fields, the header has 3"],
      [4, "6,7,8,9", "row has 4 fields, the header has 3"],
      [5, { a: "10", b: "11", c: "12" }, null],
    ]);
  });

  it("given a quote that never closes, then its line is kept raw with the parser's error and the lines after it are read again, not dropped", async () => {
    const source = freshSource();
    const { key } = await drop(source, "unclosed.csv", 'a,b\n1,2\n3,"open\n4,5\n');
    expect(await waitParsed(key)).toMatchObject({ rows: 2, bad_rows: 1 });
    const all = await streamEnvelopes(source, "unclosed", 3);
    expect(all.map((r) => [r._dock.line, r.data ?? r.raw, r._dock.error ?? null])).toEqual([
      [2, { a: "1", b: "2" }, null],
      [3, '3,"open', expect.stringContaining("CSV_QUOTE_NOT_CLOSED")],
      [4, { a: "4", b: "5" }, null],
    ]);
  });

  it("given a UTF-16 export (Excel's Unicode text), then the run fails with a clear error instead of misreading it, and the original is kept", async () => {
    const source = freshSource();
    const text = "id\tname\r\n1\tZoë\r\n";
    const bytes = new Uint8Array(2 + text.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) bytes.set([text.charCodeAt(i) & 0xff, text.charCodeAt(i) >> 8], 2 + i * 2);
    const { key } = await drop(source, "unicode.txt", bytes);
    const ledger = await waitParsed(key);
    expect(ledger).toMatchObject({ status: "failed", rows: 0 });
    expect(ledger.error).toMatch(/UTF-16/);
    expect(new Uint8Array(await (await env.RAW.get(key))!.arrayBuffer())).toEqual(bytes);
  });

  it("given blank lines (LF, CRLF, spaces) after the last row, then the file finishes in one step instead of stepping on the blank tail", async () => {
    const source = freshSource();
    const { key } = await drop(source, "tail.csv", "a,b\n1,2\n\n\r\n  \n\n");
    expect(await waitParsed(key)).toMatchObject({ status: "parsed", rows: 1, bad_rows: 0, steps: 1, bytes: 15 });
  });

  it("given an empty file and a header-only file, then both are parsed with zero rows", async () => {
    const source = freshSource();
    const empty = await drop(source, "empty.csv", "");
    const headerOnly = await drop(source, "header_only.csv", "a,b,c\r\n");
    expect(await waitParsed(empty.key)).toMatchObject({ status: "parsed", rows: 0, bad_rows: 0 });
    expect(await waitParsed(headerOnly.key)).toMatchObject({ status: "parsed", rows: 0, bad_rows: 0, bytes: 7 });
    const { state } = await waitParsed(headerOnly.key);
    expect(JSON.parse(state ?? "{}").header).toEqual(["a", "b", "c"]);
  });

  it("given a TSV with quotes inside fields and duplicate or empty header names, then fields are tab-split and names made unique", async () => {
    const source = freshSource();
    const { key } = await drop(source, "export.tsv", 'id\tname\tname\t\n1\t5" screen\tb\tc\n');
    await waitParsed(key);
    const [row] = await streamEnvelopes(source, "export", 1);
    expect(row?.data).toEqual({ id: "1", name: '5" screen', name_2: "b", column_4: "c" });
  });

  it("given a gzip'd CSV, then it is decompressed and parsed, and the landed object keeps the gzip bytes as sent", async () => {
    const source = freshSource();
    const plain = utf8("id,v\n1,a\n2,b\n");
    const gz = await gzipBytes(plain);
    const { key } = await drop(source, "daily_2026-11-24.csv.gz", gz);
    const ledger = await waitParsed(key);
    expect(ledger).toMatchObject({ rows: 2, bytes: plain.byteLength });
    const stored = await env.RAW.get(key);
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(gz);
    expect((await streamEnvelopes(source, "daily", 2)).map((r) => r.data)).toEqual([
      { id: "1", v: "a" },
      { id: "2", v: "b" },
    ]);
  });

  it("given a file parsed in many small steps, including a quoted newline across a step boundary, then the rows are exactly those of one pass", async () => {
    const source = freshSource();
    const lines = ["id,text"];
    for (let i = 1; i <= 300; i++) lines.push(i % 7 === 0 ? `${i},"multi\nline ${i}"` : `${i},plain ${i}`);
    const text = `${lines.join("\n")}\n`;
    const held = heldJobs();
    const stepEnv = filesEnv(source, { JOBS: held.queue, FILES_STEP_BYTES: "256" });
    const res = await putFile(source, "steps.csv", text, { env: stepEnv });
    const { key } = (await res.json()) as { key: string };
    const steps = await runHeldSteps(held, stepEnv);
    expect(steps).toBeGreaterThan(10);
    const ledger = await waitParsed(key);
    expect(ledger).toMatchObject({ status: "parsed", rows: 300, bad_rows: 0, steps, bytes: utf8(text).byteLength });
    const rows = await streamEnvelopes(source, "steps", 300);
    expect(rows.length).toBe(300);
    expect(rows.map((r) => (r.data as { id: string }).id)).toEqual(Array.from({ length: 300 }, (_, i) => String(i + 1)));
    expect(rows[6]?.data).toEqual({ id: "7", text: "multi\nline 7" });
    const run = await env.DB.prepare("SELECT * FROM runs WHERE id = ?").bind(ledger.run_id).first<Record<string, unknown>>();
    expect(run).toMatchObject({ status: "succeeded", pattern: "file", records: 300, pages: steps, cursor_to: String(ledger.bytes) });
  });

  it("given a gzip'd file parsed in several steps, then each step re-decompresses and skips, and no row is lost or repeated", async () => {
    const source = freshSource();
    const lines = ["n"];
    for (let i = 1; i <= 200; i++) lines.push(String(i));
    const gz = await gzipBytes(utf8(`${lines.join("\n")}\n`));
    const held = heldJobs();
    const stepEnv = filesEnv(source, { JOBS: held.queue, FILES_STEP_BYTES: "100" });
    const { key } = (await (await putFile(source, "nums.csv.gz", gz, { env: stepEnv })).json()) as { key: string };
    expect(await runHeldSteps(held, stepEnv)).toBeGreaterThan(5);
    expect(await waitParsed(key)).toMatchObject({ rows: 200, bad_rows: 0 });
    const rows = await streamEnvelopes(source, "nums", 200);
    expect(rows.map((r) => (r.data as { n: string }).n)).toEqual(Array.from({ length: 200 }, (_, i) => String(i + 1)));
  });

  it("given a step delivered twice, then the second delivery changes nothing and the file is parsed once", async () => {
    const source = freshSource();
    const held = heldJobs();
    const stepEnv = filesEnv(source, { JOBS: held.queue, FILES_STEP_BYTES: "64" });
    const text = `k\n${Array.from({ length: 40 }, (_, i) => `row${i}`).join("\n")}\n`;
    const { key } = (await (await putFile(source, "twice.csv", text, { env: stepEnv })).json()) as { key: string };
    held.jobs.push(held.jobs[0]);
    await runHeldSteps(held, stepEnv);
    expect(await waitParsed(key)).toMatchObject({ rows: 40 });
    const rows = await streamEnvelopes(source, "twice", 40);
    await new Promise((r) => setTimeout(r, 1500));
    expect(new Set((await streamEnvelopes(source, "twice", 40)).map((r) => r._dock.id)).size).toBe(40);
    expect(rows.length).toBe(40);
  });
});

describe("JSON lines and spreadsheets", () => {
  it("given JSON lines, then each line's text lands verbatim and a line that is not JSON is kept raw with its error", async () => {
    const source = freshSource();
    const text = '{"id":1,"amount":9007199254740993,"z":"a"}\n\n{ "id" : 2 }\r\nnot json\n[1,2]';
    const { key } = await drop(source, "events.jsonl", text);
    expect(await waitParsed(key)).toMatchObject({ rows: 3, bad_rows: 1 });
    await streamEnvelopes(source, "events", 4);
    const raw = await (await import("../helpers/raw-zone")).readLines(`raw/source=${source}/stream=events/`);
    const byLine = new Map(raw.map((l) => [JSON.parse(l)._dock.line as number, l]));
    expect(byLine.get(1)).toContain('"data":{"id":1,"amount":9007199254740993,"z":"a"}}');
    expect(byLine.get(3)).toContain('"data":{ "id" : 2 }}');
    expect(JSON.parse(byLine.get(4) ?? "{}")).toMatchObject({
      raw: "not json",
      _dock: { error: expect.stringContaining("line 4 is not JSON") },
    });
    expect(byLine.get(5)).toContain('"data":[1,2]}');
  });

  it("given an .xlsx workbook with two sheets, shared and inline strings, numbers and a gap, then each sheet lands as its own stream", async () => {
    const { anXlsx } = await import("./xlsx-fixture");
    const source = freshSource();
    const book = anXlsx([
      {
        name: "Orders",
        rows: [["id", "customer", "total"], [1, "Zoë & Co", 12.5], [2, "<b>", { inline: "inline text" }], [], [4, "gap", 3, "extra"]],
      },
      {
        name: "Refunds 2026",
        rows: [
          ["id", "amount"],
          [9, -1.25],
        ],
      },
    ]);
    const { key } = await drop(source, "book.xlsx", book);
    expect(await waitParsed(key)).toMatchObject({ status: "parsed", rows: 3, bad_rows: 1 });
    const orders = await streamEnvelopes(source, "book.orders", 3);
    expect(orders.map((r) => r.data ?? r.raw)).toEqual([
      { id: "1", customer: "Zoë & Co", total: "12.5" },
      { id: "2", customer: "<b>", total: "inline text" },
      '["4","gap","3","extra"]',
    ]);
    expect(orders.map((r) => [r._dock.sheet, r._dock.line])).toEqual([
      ["Orders", 2],
      ["Orders", 3],
      ["Orders", 5],
    ]);
    const refunds = await streamEnvelopes(source, "book.refunds_2026", 1);
    expect(refunds[0]?.data).toEqual({ id: "9", amount: "-1.25" });
  });

  it("given a file that is not a workbook but is named .xlsx, then the run fails loudly and the original is kept", async () => {
    const source = freshSource();
    const { key } = await drop(source, "fake.xlsx", "id,name\n1,a\n");
    const ledger = await waitParsed(key);
    expect(ledger.status).toBe("failed");
    expect(ledger.error).toMatch(/xlsx|ZIP/i);
    expect(await env.RAW.head(key)).not.toBeNull();
    const run = await env.DB.prepare("SELECT status, error FROM runs WHERE id = ?").bind(ledger.run_id).first();
    expect(run).toMatchObject({ status: "failed" });
  });
});

describe("stalled parses", () => {
  it("given a file whose next step was lost, when the stalled sweep runs, then its current step is queued again and the file finishes with every row once", async () => {
    const { requeueStalledFiles } = await import("../../src/files/stalled");
    const source = freshSource();
    const held = heldJobs();
    const stepEnv = filesEnv(source, { JOBS: held.queue, FILES_STEP_BYTES: "32" });
    const text = `k\n${Array.from({ length: 12 }, (_, i) => `r${i}`).join("\n")}\n`;
    const { key } = (await (await putFile(source, "lost.csv", text, { env: stepEnv })).json()) as { key: string };
    const { runParseStep } = await import("../../src/files/parse-step");
    const { fileParseJobSchema } = await import("../../src/files/jobs");
    await runParseStep(stepEnv, fileParseJobSchema.parse(held.jobs.shift()));
    held.jobs.length = 0; // the continuation is lost
    await requeueStalledFiles(stepEnv, 30);
    expect(held.jobs).toEqual([]);
    // The scheduler's tick runs the sweep: 31 minutes on, the lost step is queued again.
    const { handleScheduled } = await import("../../src/scheduled");
    await handleScheduled({ cron: "*/5 * * * *", scheduledTime: Date.now() + 31 * 60_000 }, stepEnv as never);
    expect(held.jobs).toContainEqual({ kind: "file_parse", key, offset: expect.any(Number) });
    held.jobs.splice(0, held.jobs.length, ...held.jobs.filter((j) => (j as { kind?: string }).kind === "file_parse"));
    await runHeldSteps(held, stepEnv);
    expect(await waitParsed(key)).toMatchObject({ status: "parsed", rows: 12 });
    expect(new Set((await streamEnvelopes(source, "lost", 12)).map((r) => r._dock.key)).size).toBe(12);
  });
});
