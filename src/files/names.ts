import { isSafeSegment } from "../envelope/raw-keys";

export const FORMATS = ["csv", "tsv", "jsonl", "xlsx"] as const;
export type FileFormat = (typeof FORMATS)[number];

const SOURCE = /^[a-z][a-z0-9_]{0,62}$/;
/** Characters a key segment keeps as they are; every other one is percent-encoded (see keySegment). */
const KEPT = /^[A-Za-z0-9 ._()+,@=~-]$/;
/** R2 keys are at most 1,024 bytes; the rest of a landed key (prefix, source, date, version) takes under 120. */
const MAX_SEGMENT_BYTES = 900;

export function isFileSource(source: string): boolean {
  return SOURCE.test(source);
}

/**
 * Why a file name cannot be landed, or null when it can. The name is kept as sent in the ledger and
 * in `_dock.key`; its key segment (keySegment) percent-encodes what a shell or lake engine could
 * misread. Refused: anything that could climb out of the prefix (`/`, `\`, `..`), hide in a listing
 * (a leading dot or symbol, control and invisible format characters, line separators) or is not text
 * (unassigned code points, lone surrogates).
 */
export function fileNameProblem(name: string): string | null {
  if (name.length === 0) return "the file name is empty";
  if (/[/\\]/.test(name)) return "the file name must not contain / or \\";
  if (name === "." || name.includes("..")) return "the file name must not contain ..";
  if (/\p{Cc}/u.test(name)) return "the file name must not contain control characters";
  if (/[\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(name))
    return "the file name must not contain invisible, private-use or unassigned characters, or line separators";
  if (!/^[\p{L}\p{N}]/u.test(name)) return "the file name must start with a letter or digit";
  if ([...name].length > 200) return "the file name must be at most 200 characters";
  if (keySegment(name).length > MAX_SEGMENT_BYTES) return `the file name must be at most ${MAX_SEGMENT_BYTES} bytes once percent-encoded`;
  return null;
}

/**
 * The file name as the last segment of its key: letters, digits, space and `. _ - ( ) + , @ = ~`
 * stay as they are; every other character becomes the percent-encoding of its UTF-8 bytes
 * (`Größe März.csv` → `Gr%C3%B6%C3%9Fe M%C3%A4rz.csv`, `#` → `%23`, `%` → `%25`), so
 * `decodeURIComponent(segment)` gives the name back and keys stay plain ASCII.
 */
export function keySegment(name: string): string {
  let out = "";
  for (const ch of name) {
    if (KEPT.test(ch)) out += ch;
    else for (const byte of new TextEncoder().encode(ch)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** `orders.csv.gz` → { format: "csv", gzip: true }. Unknown extensions give format null. */
export function formatFromName(name: string): { format: FileFormat | null; gzip: boolean } {
  const lower = name.toLowerCase();
  const gzip = lower.endsWith(".gz");
  const base = gzip ? lower.slice(0, -3) : lower;
  const ext = base.slice(base.lastIndexOf(".") + 1);
  const byExt: Record<string, FileFormat> = {
    csv: "csv",
    txt: "csv",
    tsv: "tsv",
    tab: "tsv",
    jsonl: "jsonl",
    ndjson: "jsonl",
    xlsx: "xlsx",
  };
  return { format: base.includes(".") ? (byExt[ext] ?? null) : null, gzip };
}

/** Latin letters NFKD does not take apart. */
const FOLDED: Record<string, string> = { ß: "ss", æ: "ae", œ: "oe", ø: "o", ł: "l" };

/**
 * The stream a file's rows go to when no rule names one: the name without extensions and without a
 * trailing date or number, lowercased. `Orders_2026-11-25.csv.gz` → `orders`.
 */
export function streamFromName(name: string): string {
  // Accents fall away (`Café` → `cafe`, `Größe` → `grosse`) before anything outside a-z0-9 becomes `_`.
  let stem = name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[ßæœøł]/g, (c) => FOLDED[c] ?? c)
    .replace(/\.gz$/, "");
  const dot = stem.lastIndexOf(".");
  if (dot > 0) stem = stem.slice(0, dot);
  stem = stem.replace(/[^a-z0-9]+/g, "_");
  stem = stem.replace(/(_?\d{4}_?\d{2}_?\d{2}(_?\d+)*|_\d+)$/, "").replace(/^_+|_+$/g, "");
  if (!/^[a-z]/.test(stem)) stem = `file_${stem}`.replace(/_+$/, "");
  const out = stem.slice(0, 100);
  return isSafeSegment(out) ? out : "file";
}

export function landedKey(source: string, at: Date, name: string, version?: string): string {
  const date = at.toISOString().slice(0, 10);
  const last = keySegment(name);
  return version ? `files/source=${source}/${date}/${version}/${last}` : `files/source=${source}/${date}/${last}`;
}
