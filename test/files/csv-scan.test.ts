import { describe, expect, it } from "vitest";
import { CsvWindowReader, csvRows } from "../../src/files/csv-rows";
import type { TextEncodingName } from "../../src/files/text-encoding";
import { seeded as random } from "../../src/lib/seeded";

/** Pieces weighted towards what breaks parsers: quotes, delimiters, every kind of line break, wide characters. */
const PIECES: [string, number][] = [
  ["abc", 20],
  ["7", 10],
  [",", 12],
  [";", 3],
  ["\t", 3],
  ['"', 6],
  ['""', 3],
  ['"x,y"', 5],
  ['"multi\nline"', 3],
  ["\n", 12],
  ["\r\n", 4],
  ["\r", 0.3],
  [" ", 3],
  ["é", 2],
  ["😀", 1],
  ["€", 1],
  ["\uFEFF", 0.3],
];
const TOTAL = PIECES.reduce((n, [, w]) => n + w, 0);

function text(next: () => number, pieces: number): string {
  let out = "";
  for (let i = 0; i < pieces; i++) {
    let r = next() * TOTAL;
    for (const [piece, w] of PIECES) {
      r -= w;
      if (r <= 0) {
        out += piece;
        break;
      }
    }
  }
  return out;
}

/** Single-byte text: the pieces above with wide characters swapped for Windows-1252 bytes, C1 ones included. */
function singleByte(next: () => number, pieces: number): Uint8Array {
  const t = text(next, pieces);
  return Uint8Array.from(
    [...t].map((c) => (c.charCodeAt(0) < 0x80 ? c.charCodeAt(0) : ([0x80, 0x81, 0x92, 0x9d, 0xe9, 0xff][Math.floor(next() * 6)] ?? 0xe9))),
  );
}

function compare(bytes: Uint8Array, opts: { delimiter: string; encoding: TextEncodingName; final: boolean }, label: string) {
  const args = { ...opts, startLine: 3 };
  const expected = csvRows(bytes, { ...args, scan: false });
  expect(csvRows(bytes, args), label).toEqual(expected);
  // Read a few rows at a time, as a step does: the same rows, and the same place to go on from.
  const reader = new CsvWindowReader(bytes, args);
  const items = [];
  for (let batch = reader.read(1); batch.length > 0; batch = reader.read(1 + (items.length % 5))) items.push(...batch);
  expect({ items, consumed: reader.consumed, nextLine: reader.nextLine }, `${label} in batches`).toEqual(expected);
  return expected.items.length;
}

describe("CSV fast path", () => {
  it("given random CSV-like windows (UTF-8 and Windows-1252, three delimiters, cut anywhere, final or not), then the fast path gives exactly csv-parse's rows, lines, offsets and errors", () => {
    let rows = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const next = random(seed);
      const encoding: TextEncodingName = seed % 5 === 0 ? "windows-1252" : "utf8";
      const whole = encoding === "utf8" ? new TextEncoder().encode(text(next, 5 + Math.floor(next() * 200))) : singleByte(next, 200);
      // A window cut anywhere, even inside a multi-byte character.
      const bytes = next() < 0.5 ? whole : whole.subarray(0, Math.floor(next() * whole.length));
      const delimiter = [",", ",", ";", "\t"][seed % 4] as string;
      const final = next() < 0.5;
      rows += compare(bytes, { delimiter, encoding, final }, `seed ${seed}`);
    }
    expect(rows).toBeGreaterThan(5000);
  });

  it("given large windows with a few unusual records far apart, then csv-parse takes over for them and hands back, with the same rows", () => {
    for (let seed = 1; seed <= 6; seed++) {
      const next = random(seed * 7919);
      const lines = ["id,name,note"];
      for (let i = 0; i < 3000; i++) {
        const roll = next();
        lines.push(
          roll < 0.002
            ? `${i},"closed"then text,x` // text after a closing quote (relax_quotes keeps it)
            : roll < 0.003
              ? `${i},"never closed`
              : roll < 0.004
                ? `${i},${"y".repeat(70_000)}` // longer than the hand-over chunk
                : `${i},"name ${i}, ""q""",${i % 3 === 0 ? '"two\nlines"' : "plain é"}`,
        );
      }
      const eol = seed % 2 === 0 ? "\r\n" : "\n";
      const bytes = new TextEncoder().encode(`${lines.join(eol)}${eol}`);
      for (const final of [true, false]) compare(bytes, { delimiter: ",", encoding: "utf8", final }, `seed ${seed} final ${final}`);
    }
  });
});
