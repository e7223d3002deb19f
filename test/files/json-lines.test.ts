import { describe, expect, it } from "vitest";
import { JsonLinesReader, jsonLines } from "../../src/files/text-rows";

const enc = (s: string) => new TextEncoder().encode(s);
const body = enc('{"a":1}\n\n{"b":"x\\ny"}\r\nnot json\n  {"c":[1,2]}  \n{"d":{"e":"\\"é\\""}}\n{"cut":');

describe("JSON lines read a batch at a time", () => {
  it("given a window of lines, blank lines, a bad line and a cut last line, when read two at a time, then the batches hold at most two rows and together are the one-pass rows", () => {
    for (const final of [false, true]) {
      const whole = jsonLines(body, 5, final);
      const reader = new JsonLinesReader(body, 5, final);
      const batches = [];
      for (let batch = reader.read(2); batch.length > 0; batch = reader.read(2)) batches.push(batch);
      expect(batches.map((b) => b.length)).toEqual(final ? [2, 2, 2] : [2, 2, 1]);
      expect(batches.flat()).toEqual(whole.items);
      expect([reader.consumed, reader.nextLine]).toEqual([whole.consumed, whole.nextLine]);
    }
    const open = jsonLines(body, 5, false);
    expect(open.items.map((i) => i.line)).toEqual([5, 7, 8, 9, 10]);
    expect(open.items[2]?.error).toMatch(/^line 8 is not JSON/);
    expect(open.consumed).toBe(body.length - '{"cut":'.length);
    expect(jsonLines(body, 5, true).items.at(-1)?.error).toMatch(/^line 11 is not JSON/);
  });
});
