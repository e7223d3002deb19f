import { describe, expect, it } from "vitest";
import { CopyLineSplitter, parseCopyTextLine } from "./copy-text";

describe("COPY text format", () => {
  it("given escapes, NULL markers and an empty string, when parsed, then each field is the original text", () => {
    expect(parseCopyTextLine("a\\tb\t\\N\t\t\\\\N\tx\\ny\t\\101\\x41")).toEqual(["a\tb", null, "", "\\N", "x\ny", "AA"]);
  });
  it("given a multi-byte character split across chunks, when split into lines, then nothing is garbled or lost", () => {
    const bytes = Buffer.from("é1\tzß\nsecond\t😀\nlast", "utf8");
    const s = new CopyLineSplitter();
    const lines = [...s.push(bytes.subarray(0, 1)), ...s.push(bytes.subarray(1, 17)), ...s.push(bytes.subarray(17)), ...s.end()];
    expect(lines).toEqual(["é1\tzß", "second\t😀", "last"]);
  });
});
