// The part of a file parse step the files bench times, shared by its Node run (bench/files-bench.ts)
// and its workerd run (files-steps-worker.ts): one window's rows, a batch of 1,000 at a time as
// `textStep` reads them, each built into its envelope as `textStep` builds it and packed into INGEST
// bundles, then dropped (no D1, no queue). CSV and TSV go through the CSV reader, JSON lines through
// the JSON-lines reader; a row `textStep` would report as bad is built as its error envelope.
import { packBundles } from "../../src/envelope/bundle";
import { CsvWindowReader, fieldNames } from "../../src/files/csv-rows";
import { type FileContext, rowEnvelope, rowObjectEnvelope } from "../../src/files/envelopes";
import { JsonLinesReader } from "../../src/files/text-rows";

export type BenchFormat = "csv" | "tsv" | "jsonl";
export const BENCH_FORMATS: readonly BenchFormat[] = ["csv", "tsv", "jsonl"];
const ROW_BATCH = 1000;

export interface StepsState {
  format: BenchFormat;
  ctx: FileContext;
  line: number;
  header?: string[];
  rows: number;
  badRows: number;
  bundles: number;
  steps: number;
}

export function stepsState(format: BenchFormat, key: string): StepsState {
  const ctx = { source: "bench", name: `big.${format}`, key, sha256: "0".repeat(64), runId: "r", receivedAt: new Date().toISOString() };
  return { format, ctx, line: 1, rows: 0, badRows: 0, bundles: 0, steps: 0 };
}

/** Parses one window as `textStep` does; returns the bytes consumed (the next window starts there). */
export function stepWindow(st: StepsState, bytes: Uint8Array, final: boolean): number {
  const { ctx, format } = st;
  const head = { source: "bench", stream: "big", pattern: "file", received_at: ctx.receivedAt, dedupe: "bundle" } as const;
  const reader =
    format === "jsonl"
      ? new JsonLinesReader(bytes, st.line, final)
      : new CsvWindowReader(bytes, { delimiter: format === "tsv" ? "\t" : ",", encoding: "utf8", startLine: st.line, final });
  let items = reader.read(ROW_BATCH);
  if (format !== "jsonl" && !st.header) {
    st.header = fieldNames(items[0]?.fields ?? []);
    items = items.slice(1);
  }
  for (let batch = 0; batch === 0 || items.length > 0; batch++, items = reader.read(ROW_BATCH)) {
    const records = items.map((item) => {
      if (format === "jsonl") {
        if (item.error) st.badRows++;
        else st.rows++;
        return rowEnvelope(ctx, "big", { line: item.line }, item.error ? { raw: item.text ?? "" } : { json: item.text ?? "" }, item.error);
      }
      const names = st.header as string[];
      if (item.fields && item.fields.length === names.length) {
        st.rows++;
        return rowObjectEnvelope(ctx, "big", item.line, names, item.fields);
      }
      st.badRows++;
      return rowEnvelope(ctx, "big", { line: item.line }, { raw: item.text ?? "" }, item.error ?? "ragged row");
    });
    st.bundles += packBundles(head, records).bundles.length;
  }
  st.steps++;
  st.line = reader.nextLine;
  return reader.consumed;
}

/** The JSON-lines floor in either runtime: text chunks split at line breaks, each line JSON.parse'd; the rows counted. */
export async function parseJsonLines(chunks: AsyncIterable<string>): Promise<{ rows: number }> {
  let rows = 0;
  let rest = "";
  for await (const chunk of chunks) {
    const text = rest + chunk;
    let from = 0;
    for (let lf = text.indexOf("\n"); lf !== -1; lf = text.indexOf("\n", from)) {
      JSON.parse(text.slice(from, lf));
      rows++;
      from = lf + 1;
    }
    rest = text.slice(from);
  }
  if (rest.trim() !== "") {
    JSON.parse(rest);
    rows++;
  }
  return { rows };
}
