import { describe, expect, it } from "vitest";
import { ByteWriter } from "./byte-writer";

/** The reference: what the two JSON quotings of a text leave between their outer quotes. */
const twice = (s: string) => JSON.stringify(JSON.stringify(s)).slice(3, -3);

describe("ByteWriter.twiceEscaped", () => {
  it("given every single byte, when written twice escaped, then it is what JSON.stringify twice makes of its UTF-8 decoding", () => {
    for (let b = 0; b < 256; b++) {
      const w = new ByteWriter(1);
      const src = Buffer.from([0x61, b, 0x62]);
      w.twiceEscaped(src, 0, 3);
      expect(w.subarray().toString("utf8"), `byte 0x${b.toString(16)}`).toBe(twice(src.toString("utf8")));
    }
  });

  it("given random byte strings (valid and broken UTF-8) at offsets inside a larger buffer, when written, then each matches the reference and the writer grows as needed", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pieces = ["a", '"', "\\", "\n", "\u0001", "é", "😀", "\u2028", "\u007f"].map((s) => Buffer.from(s));
    for (let i = 0; i < 500; i++) {
      const parts: Buffer[] = [Buffer.from("prefix")];
      for (let n = Math.floor(rand() * 40); n > 0; n--)
        parts.push(rand() < 0.1 ? Buffer.from([0x80 + Math.floor(rand() * 0x7f)]) : (pieces[Math.floor(rand() * pieces.length)] as Buffer));
      const src = Buffer.concat([...parts, Buffer.from("suffix")]);
      const a = 6;
      const b = src.length - 6;
      const w = new ByteWriter(2);
      w.ascii("x");
      w.twiceEscaped(src, a, b);
      w.ascii("y");
      expect(w.subarray().toString("utf8")).toBe(`x${twice(src.subarray(a, b).toString("utf8"))}y`);
    }
  });

  it("given LSN halves, when written as upper-case hex, then there are no leading zeros", () => {
    const w = new ByteWriter(1);
    for (const n of [0, 1, 0xabc, 0xffffffff, 0x1000]) {
      w.hexUpper(n);
      w.byte(0x2f);
    }
    expect(w.subarray().toString()).toBe("0/1/ABC/FFFFFFFF/1000/");
  });
});
