// A bench-only Worker for bench/files-bench.ts: the file parse steps' work in workerd, over files in
// local R2. PUT /file?format=csv|tsv|jsonl stores the bench's file of that format; POST /run?kind=…
// runs one of the bench's runs over it: `dock-<format>` the steps' parsing, envelopes and bundles with
// 8 MiB R2 range reads (files-steps-core.ts, as in the Node run; the INGEST send left out),
// `csvparse-csv` / `csvparse-tsv` csv-parse's core (the engine of its stream API) fed the object's body,
// records counted, `lines-jsonl` the JSON-lines body split at line breaks and each line JSON.parse'd.
import { Parser } from "csv-parse";
import { readPlainWindow } from "../../src/files/window";
import { BENCH_FORMATS, type BenchFormat, parseJsonLines, stepsState, stepWindow } from "./files-steps-core";

interface Env {
  RAW: R2Bucket;
}

const keyOf = (format: BenchFormat) => `files/source=bench/big.${format}`;
const STEP_BYTES = 8 * 1024 * 1024;

async function steps(env: Env, format: BenchFormat): Promise<Record<string, number>> {
  const key = keyOf(format);
  const head = await env.RAW.head(key);
  if (!head) throw new Error(`no ${format} file; PUT /file?format=${format} first`);
  const st = stepsState(format, key);
  let offset = 0;
  for (;;) {
    const window = await readPlainWindow(env.RAW, key, head.size, offset, STEP_BYTES);
    offset += stepWindow(st, window.bytes, window.final);
    if (window.final) break;
  }
  return { rows: st.rows, badRows: st.badRows, bundles: st.bundles, steps: st.steps };
}

async function body(env: Env, format: BenchFormat): Promise<ReadableStream<Uint8Array>> {
  const object = await env.RAW.get(keyOf(format));
  if (!object) throw new Error(`no ${format} file; PUT /file?format=${format} first`);
  return object.body;
}

async function csvParse(env: Env, format: "csv" | "tsv"): Promise<Record<string, number>> {
  const api = (
    new Parser({ relax_column_count: true, delimiter: format === "tsv" ? "\t" : "," }) as unknown as {
      api: { parse(b: Uint8Array | undefined, end: boolean, push: () => void, close: () => void): Error | undefined };
    }
  ).api;
  let rows = -1;
  const push = () => {
    rows++;
  };
  const reader = (await body(env, format)).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const err = api.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength), false, push, () => {});
    if (err) throw err;
  }
  const err = api.parse(undefined, true, push, () => {});
  if (err) throw err;
  return { rows };
}

async function jsonLines(env: Env): Promise<Record<string, number>> {
  // A ReadableStream is async-iterable in workerd.
  return parseJsonLines((await body(env, "jsonl")).pipeThrough(new TextDecoderStream()) as unknown as AsyncIterable<string>);
}

function formatOf(value: string | null): BenchFormat {
  if (!BENCH_FORMATS.includes(value as BenchFormat)) throw new Error(`unknown format ${value}`);
  return value as BenchFormat;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok");
    if (url.pathname === "/file" && request.method === "PUT") {
      const put = await env.RAW.put(keyOf(formatOf(url.searchParams.get("format"))), request.body);
      return Response.json({ size: put?.size });
    }
    if (url.pathname === "/run") {
      const kind = url.searchParams.get("kind") ?? "";
      if (kind.startsWith("dock-")) return Response.json(await steps(env, formatOf(kind.slice(5))));
      if (kind === "csvparse-csv" || kind === "csvparse-tsv") return Response.json(await csvParse(env, kind.slice(9) as "csv" | "tsv"));
      if (kind === "lines-jsonl") return Response.json(await jsonLines(env));
    }
    return new Response("not found", { status: 404 });
  },
};
