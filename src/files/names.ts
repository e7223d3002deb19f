import { isSafeSegment } from "../envelope/raw-keys";

export const FORMATS = ["csv", "tsv", "jsonl", "xlsx"] as const;
export type FileFormat = (typeof FORMATS)[number];

const SOURCE = /^[a-z][a-z0-9_]{0,62}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._()+,@=~-]{0,199}$/;

export function isFileSource(source: string): boolean {
  return SOURCE.test(source);
}

/**
 * Why a file name cannot be a key segment, or null when it can. The name is kept as sent (it is
 * the last segment of the landed key), so anything that could climb out of the prefix, hide in a
 * listing or mean something to a shell or lake engine is refused instead of rewritten.
 */
export function fileNameProblem(name: string): string | null {
  if (name.length === 0) return "the file name is empty";
  if (/[/\\]/.test(name)) return "the file name must not contain / or \\";
  if (name === "." || name.includes("..")) return "the file name must not contain ..";
  if (/[\u0000-\u001f\u007f]/.test(name)) return "the file name must not contain control characters";
  if (!NAME.test(name))
    return "the file name must start with a letter or digit and use only letters, digits, space and . _ - ( ) + , @ = ~ (at most 200)";
  return null;
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

/**
 * The stream a file's rows go to when no rule names one: the name without extensions and without a
 * trailing date or number, lowercased. `Orders_2026-11-25.csv.gz` → `orders`.
 */
export function streamFromName(name: string): string {
  let stem = name.toLowerCase().replace(/\.gz$/, "");
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
  return version ? `files/source=${source}/${date}/${version}/${name}` : `files/source=${source}/${date}/${name}`;
}
