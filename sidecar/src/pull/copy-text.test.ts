import { describe, expect, it } from "vitest";
import { copyFieldText } from "./copy-text";

describe("COPY text format", () => {
  it("given escapes, NULL markers and an empty string, when read, then each field is the original text", () => {
    const fields = "a\\tb\t\\N\t\t\\\\N\tx\\ny\t\\101\\x41".split("\t");
    expect(fields.map(copyFieldText)).toEqual(["a\tb", null, "", "\\N", "x\ny", "AA"]);
  });
});
