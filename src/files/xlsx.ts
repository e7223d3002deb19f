import { strFromU8, unzipSync } from "fflate";

/**
 * A small reader for .xlsx (Office Open XML): a ZIP of XML parts. It reads the workbook's sheet
 * list, the shared strings and each sheet's cells, and gives every cell the text Excel stored:
 * shared and inline strings resolved, numbers and dates as their stored value (dates are Excel
 * serial numbers; number formats are not applied), booleans as 0/1, formulas as their cached value.
 */
export interface SheetRow {
  /** The row number Excel shows (1-based). */
  row: number;
  cells: string[];
}

export interface Sheet {
  name: string;
  rows: SheetRow[];
}

export class WorkbookUnreadable extends Error {}

const ENTITY = /&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

export function xmlText(s: string): string {
  return s
    .replace(ENTITY, (_, e: string) =>
      e.startsWith("#x")
        ? String.fromCodePoint(Number.parseInt(e.slice(2), 16))
        : e.startsWith("#")
          ? String.fromCodePoint(Number(e.slice(1)))
          : (NAMED[e] ?? ""),
    )
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:]+)="([^"]*)"/g)) out[m[1] as string] = xmlText(m[2] as string);
  return out;
}

/** All `<t>` runs of a string item, without phonetic (`rPh`) runs. */
function stringItem(xml: string): string {
  const body = xml.replace(/<rPh\b[\s\S]*?<\/rPh>/g, "");
  let out = "";
  for (const m of body.matchAll(/<t(?:\s[^>]*)?>([\s\S]*?)<\/t>|<t(?:\s[^>]*)?\/>/g)) out += xmlText(m[1] ?? "");
  return out;
}

/** `B` → 1, `AA` → 26. */
export function columnIndex(ref: string): number {
  const letters = /^[A-Z]+/.exec(ref)?.[0] ?? "";
  let n = 0;
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

function resolveTarget(target: string): string {
  if (target.startsWith("/")) return target.slice(1);
  const parts = `xl/${target}`.split("/");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "..") out.pop();
    else if (p !== ".") out.push(p);
  }
  return out.join("/");
}

function sheetRows(xml: string, shared: string[]): SheetRow[] {
  const rows: SheetRow[] = [];
  let next = 1;
  for (const m of xml.matchAll(/<row\b([^>]*?)(?:\/>|>([\s\S]*?)<\/row>)/g)) {
    const rowNumber = Number(attrs(m[1] ?? "").r ?? next);
    next = rowNumber + 1;
    const cells: string[] = [];
    let col = 0;
    for (const c of (m[2] ?? "").matchAll(/<c\b([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const a = attrs(c[1] ?? "");
      col = a.r ? columnIndex(a.r) : col;
      const inner = c[2] ?? "";
      const v = /<v(?:\s[^>]*)?>([\s\S]*?)<\/v>/.exec(inner)?.[1];
      let value: string;
      if (a.t === "s") value = shared[Number(v)] ?? "";
      else if (a.t === "inlineStr") value = stringItem(/<is>([\s\S]*?)<\/is>/.exec(inner)?.[1] ?? "");
      else value = v === undefined ? "" : xmlText(v);
      while (cells.length < col) cells.push("");
      cells[col] = value;
      col++;
    }
    if (cells.some((c) => c !== "")) rows.push({ row: rowNumber, cells });
  }
  return rows;
}

/** Every sheet of the workbook, in workbook order, with its non-empty rows. */
export function readWorkbook(bytes: Uint8Array): Sheet[] {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (f) => (f.name.startsWith("xl/") && f.name.endsWith(".xml")) || f.name.endsWith(".rels") });
  } catch (err) {
    throw new WorkbookUnreadable(`not a readable .xlsx (ZIP) file: ${(err as Error).message}`);
  }
  const part = (name: string) => (files[name] ? strFromU8(files[name] as Uint8Array) : null);
  const workbook = part("xl/workbook.xml");
  if (!workbook) throw new WorkbookUnreadable("not an .xlsx workbook: xl/workbook.xml is missing");
  const rels = new Map<string, string>();
  for (const m of (part("xl/_rels/workbook.xml.rels") ?? "").matchAll(/<Relationship\b([^>]*)\/?>/g)) {
    const a = attrs(m[1] ?? "");
    if (a.Id && a.Target) rels.set(a.Id, resolveTarget(a.Target));
  }
  const shared = [...(part("xl/sharedStrings.xml") ?? "").matchAll(/<si>([\s\S]*?)<\/si>|<si\/>/g)].map((m) => stringItem(m[1] ?? ""));
  const sheets: Sheet[] = [];
  for (const m of workbook.matchAll(/<sheet\b([^>]*)\/?>/g)) {
    const a = attrs(m[1] ?? "");
    const path = rels.get(a["r:id"] ?? "");
    const xml = path ? part(path) : null;
    if (!a.name || !xml) continue;
    sheets.push({ name: a.name, rows: sheetRows(xml, shared) });
  }
  return sheets;
}
