import { parse } from "csv-parse/sync";
import { arraySpansAt, scalarTextAt } from "../../pollers/json-path";
import type { StepRecord } from "../../pollers/types";

/** SystemModstamp as ISO-8601 UTC: REST says `…000+0000`, Bulk CSV says `…000Z`; one instant, one text. */
export function stamp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

export interface RecordBatch {
  records: StepRecord[];
  /** The latest SystemModstamp of the batch (ISO), if any. */
  latest?: string;
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return b > a ? b : a;
}

/**
 * The rows of a REST query page (`{"records":[…]}`), each spliced verbatim: key `Id`, version its
 * SystemModstamp (whole seconds: the engine adds a digest of the row's bytes, so two edits within
 * one second are two versions), `IsDeleted: true` (queryAll returns deleted rows) a delete.
 */
export function restRecords(text: string): RecordBatch {
  const out: RecordBatch = { records: [] };
  for (const span of arraySpansAt(text, "records")) {
    const id = scalarTextAt(text, span, "Id");
    const modstamp = stamp(scalarTextAt(text, span, "SystemModstamp"));
    if (!id || !modstamp) throw new Error(`a record without Id or SystemModstamp: ${text.slice(span[0], span[0] + 120)}`);
    out.records.push({
      key: id,
      version: modstamp,
      op: scalarTextAt(text, span, "IsDeleted") === "true" ? "delete" : "upsert",
      json: text.slice(span[0], span[1]),
    });
    out.latest = later(out.latest, modstamp);
  }
  return out;
}

/**
 * Bulk API 2.0 results are CSV: the header names the fields, every value is text. Each row becomes
 * one JSON object of those strings (CSV has no other types to lose), in the header's field order.
 */
export function csvRecords(csv: string): RecordBatch {
  const rows = parse(csv, { bom: true, relax_column_count: false }) as string[][];
  const [header, ...body] = rows;
  const out: RecordBatch = { records: [] };
  if (!header) return out;
  const at = (name: string) => header.indexOf(name);
  const [idAt, stampAt, deletedAt] = [at("Id"), at("SystemModstamp"), at("IsDeleted")];
  if (idAt < 0 || stampAt < 0)
    throw new Error(`the Bulk results have no Id or SystemModstamp column (header: ${header.join(",").slice(0, 200)})`);
  for (const row of body) {
    const modstamp = stamp(row[stampAt]);
    if (!modstamp) throw new Error(`a Bulk row without a SystemModstamp: ${row.join(",").slice(0, 120)}`);
    out.records.push({
      key: row[idAt] as string,
      version: modstamp,
      op: deletedAt >= 0 && row[deletedAt] === "true" ? "delete" : "upsert",
      json: JSON.stringify(Object.fromEntries(header.map((name, i) => [name, row[i] ?? ""]))),
    });
    out.latest = later(out.latest, modstamp);
  }
  return out;
}
