import { describe, expect, it } from "vitest";
import { jsonBytes, knownRecordBytes, recordJsonBytes } from "../../src/envelope/bundle";
import {
  type FileContext,
  rowEnvelope,
  rowEnvelopeByObject,
  rowObject,
  rowObjectByObject,
  rowObjectEnvelope,
} from "../../src/files/envelopes";

const ctx: FileContext = {
  source: "acme",
  name: 'Zoë "q" \\ \u2028 😀.csv',
  key: "files/source=acme/2026/Zoë.csv",
  sha256: "f".repeat(64),
  runId: "run-\u0001",
  receivedAt: "2026-12-07T10:00:00.000Z",
};
const tricky = [
  "",
  "plain",
  'say "hi"',
  "back\\slash",
  "tab\tnl\ncr\r",
  "\u0000\u001f",
  "é€😀",
  "\ud800 lone",
  "\u2028\u2029",
  "</script>",
];

describe("file envelopes built from templates", () => {
  it("given rows with every kind of text, errors and payloads, then the template line is byte for byte the envelope object's JSON", () => {
    for (const [i, value] of tricky.entries()) {
      for (const payload of [{ json: rowObject(["a", "b"], [value, String(i)]) }, { raw: value }, { rawBase64: "AAEC" }]) {
        for (const error of [undefined, "", `row has 3 fields, the header has 2 ${value}`]) {
          for (const stream of ["orders", "orders_2"]) {
            const position = { line: i * 1000 + 2 };
            expect(rowEnvelope(ctx, stream, position, payload, error)).toEqual(rowEnvelopeByObject(ctx, stream, position, payload, error));
          }
        }
      }
    }
    for (const [i, value] of tricky.entries()) {
      const names = ["a", `b${value}`];
      const fields = [value, String(i)];
      expect(rowObjectEnvelope(ctx, "orders", i + 2, names, fields)).toEqual(
        rowEnvelopeByObject(ctx, "orders", { line: i + 2 }, { json: rowObjectByObject(names, fields) }),
      );
    }
    const sheet = { line: 3, sheet: "Sheet 1" };
    expect(rowEnvelope(ctx, "s", sheet, { raw: "x" })).toEqual(rowEnvelopeByObject(ctx, "s", sheet, { raw: "x" }));
  });

  it("given headers an object would reorder or swallow (integer-like names, __proto__, repeats), then the row's JSON is still the object's", () => {
    const headers = [
      ["id", "name", "note"],
      ["2023", "2022", "name", "10", "01", "-1", "4294967294", "4294967295"],
      ["__proto__", "constructor", "toString"],
      ["a", "a", "b"],
      ['q"uote', "back\\", "é😀", "\ud800"],
      [],
    ];
    for (const names of headers) {
      for (const fields of [names.map((_, i) => tricky[i % tricky.length] as string), ["only one"], [...names, "extra"]]) {
        expect(rowObject(names, fields), JSON.stringify(names)).toBe(rowObjectByObject(names, fields));
      }
    }
  });

  it("given records with any text, then their measured JSON size is JSON.stringify's", () => {
    for (const value of tricky) {
      const line = rowEnvelope(ctx, "orders", { line: 2 }, { json: rowObject(["v"], [value]) }).line;
      for (const record of [
        { id: "a".repeat(32), line },
        { id: "b".repeat(32), line: value || "{}", receipt: value },
      ]) {
        expect(recordJsonBytes(record), value).toBe(jsonBytes(record));
      }
      // A row's size counted from its parts as it is built, at line numbers of every width.
      for (const at of [2, 99, 12345, 9_007_199_254_740_991]) {
        const built = rowObjectEnvelope(ctx, "orders", at, ["v", `k${value}`], [value, `${value}${value}`]);
        expect(knownRecordBytes.get(built), `${value} at ${at}`).toBe(jsonBytes(built));
        // A JSON line kept as it is (JSON lines files), with line breaks and tabs between its tokens.
        for (const json of [JSON.stringify({ v: value, n: [1, { k: value }] }), `{\t"v" :\r\n${JSON.stringify(value)}}`]) {
          const kept = rowEnvelope(ctx, "orders", { line: at }, { json });
          expect(knownRecordBytes.get(kept), `${json} at ${at}`).toBe(jsonBytes(kept));
        }
      }
    }
  });
});
