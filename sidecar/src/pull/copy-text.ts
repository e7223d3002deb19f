/**
 * One field of COPY … TO STDOUT text format: `\N` is NULL, backslash escapes stand for the
 * rest. Returns the text Postgres printed.
 */
const ESCAPES: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\" };

export function copyFieldText(field: string): string | null {
  if (field === "\\N") return null;
  if (!field.includes("\\")) return field;
  let out = "";
  for (let i = 0; i < field.length; i++) {
    const c = field[i] as string;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = field[++i] ?? "";
    if (n in ESCAPES) out += ESCAPES[n];
    else if (/[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(field.slice(i))?.[0] ?? n;
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += oct.length - 1;
    } else if (n === "x") {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(field.slice(i + 1))?.[0] ?? "";
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += hex.length;
    } else out += n;
  }
  return out;
}
