import type { FilesEnv } from "./env";
import { fieldNames } from "./csv-rows";
import { rowEnvelope, rowObject } from "./envelopes";
import type { LedgerRow } from "./ledger";
import type { Sender } from "./sender";
import { FileUnreadable, type StepOutcome } from "./step";
import { readWorkbook } from "./xlsx";

/**
 * .xlsx is read whole (a ZIP's directory is at its end) and its XML is typically 5–10× the ZIP:
 * 10 MB keeps a step well inside a Worker's 128 MB. Bigger workbooks belong in CSV.
 */
export const XLSX_MAX_BYTES = 10 * 1024 * 1024;
const XLSX_ROWS_PER_STEP = 20_000;

/** Sheet rows are numbered across the workbook: `parse_offset` counts the data rows already sent. */
export async function xlsxStep(env: FilesEnv, row: LedgerRow, sender: Sender): Promise<StepOutcome> {
  if (row.size > XLSX_MAX_BYTES) throw new FileUnreadable(`.xlsx larger than ${XLSX_MAX_BYTES} bytes; export it as CSV`);
  const object = await env.RAW.get(row.key);
  if (!object) throw new Error(`landed file ${row.key} is missing from R2`);
  const sheets = readWorkbook(new Uint8Array(await object.arrayBuffer()));
  const ctx = sender.ctx;
  let index = 0;
  let rows = row.rows;
  let badRows = row.bad_rows;
  const stop = row.parse_offset + XLSX_ROWS_PER_STEP;
  for (const sheet of sheets) {
    const [header, ...data] = sheet.rows;
    if (!header) continue;
    const names = fieldNames(header.cells);
    const stream = `${row.stream}.${sheetSlug(sheet.name)}`;
    for (const r of data) {
      if (index >= stop) return { to: index, line: 0, rows, badRows, done: false };
      if (index++ < row.parse_offset) continue;
      const position = { line: r.row, sheet: sheet.name };
      if (r.cells.length > names.length) {
        const error = `row has ${r.cells.length} cells, the header has ${names.length}`;
        await sender.add(stream, rowEnvelope(ctx, stream, position, { raw: JSON.stringify(r.cells) }, error));
        badRows++;
      } else {
        await sender.add(stream, rowEnvelope(ctx, stream, position, { json: rowObject(names, r.cells) }));
        rows++;
      }
    }
  }
  return { to: index, line: 0, rows, badRows, done: true };
}

export function sheetSlug(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return slug.length > 0 ? slug.slice(0, 60) : "sheet";
}
