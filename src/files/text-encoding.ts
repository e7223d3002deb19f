/**
 * The encodings a text file is read in. `latin1` is read as Windows-1252, as the WHATWG Encoding
 * Standard (and every browser) reads it: in ISO-8859-1 bytes 0x80–0x9F are C1 control characters
 * no text uses, while Excel's Windows-1252 exports put €, curly quotes and dashes there.
 */
export type TextEncodingName = "utf8" | "latin1" | "windows-1252";

/** Windows-1252's characters for bytes 0x80–0x9F; the five it leaves undefined keep their C1 code, as WHATWG decodes them. */
const CP1252_HIGH =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";
const C1 = /[\u0080-\u009f]/g;

/**
 * Text decoded byte for byte as ISO-8859-1 (what csv-parse's `latin1` gives) turned into
 * Windows-1252: only 0x80–0x9F differ, and each is still one character for one byte.
 */
export function latin1ToWindows1252(text: string): string {
  C1.lastIndex = 0;
  return C1.test(text) ? text.replace(C1, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? c) : text;
}

export function textDecoder(encoding: TextEncodingName): TextDecoder {
  return new TextDecoder(encoding === "utf8" ? "utf-8" : "windows-1252");
}
