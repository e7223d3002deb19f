// A bench-only Worker for bench/files-bench.ts: the file parse steps' work in workerd, over a file in
// local R2. PUT /file stores the bench's CSV; POST /steps runs the steps' parsing, envelopes and
// bundles with 8 MiB R2 range reads (the INGEST send left out, as in the Node run); POST /baseline
// feeds the object's body to csv-parse's core (the engine of its stream API) and counts records.
import { Parser } from "csv-parse";
import { packBundles } from "../../src/envelope/bundle";
import { CsvWindowReader, fieldNames } from "../../src/files/csv-rows";
import { rowObjectEnvelope } from "../../src/files/envelopes";
import { readPlainWindow } from "../../src/files/window";

interface Env {
  RAW: R2Bucket;
}

const KEY = "files/source=bench/big.csv";
const STEP_BYTES = 8 * 1024 * 1024;

async function steps(env: Env): Promise<Record<string, number>> {
  const head = await env.RAW.head(KEY);
  if (!head) throw new Error("no file; PUT /file first");
  const ctx = { source: "bench", name: "big.csv", key: KEY, sha256: "0".repeat(64), runId: "r", receivedAt: new Date().toISOString() };
  const bundleHead = { source: "bench", stream: "big", pattern: "file", received_at: ctx.receivedAt, dedupe: "bundle" } as const;
  let offset = 0;
  let line = 1;
  let header: string[] | undefined;
  let rows = 0;
  let bundles = 0;
  let steps = 0;
  for (;;) {
    const window = await readPlainWindow(env.RAW, KEY, head.size, offset, STEP_BYTES);
    const reader = new CsvWindowReader(window.bytes, { delimiter: ",", encoding: "utf8", startLine: line, final: window.final });
    let items = reader.read(1000);
    if (!header) {
      header = fieldNames(items[0]?.fields ?? []);
      items = items.slice(1);
    }
    for (let batch = 0; batch === 0 || items.length > 0; batch++, items = reader.read(1000)) {
      const records = items.map((item) => rowObjectEnvelope(ctx, "big", item.line, header as string[], item.fields ?? []));
      rows += records.length;
      bundles += packBundles(bundleHead, records).bundles.length;
    }
    steps++;
    offset += reader.consumed;
    line = reader.nextLine;
    if (window.final) break;
  }
  return { rows, bundles, steps };
}

async function baseline(env: Env): Promise<Record<string, number>> {
  const object = await env.RAW.get(KEY);
  if (!object) throw new Error("no file; PUT /file first");
  const api = (
    new Parser({ relax_column_count: true }) as unknown as {
      api: { parse(b: Uint8Array | undefined, end: boolean, push: () => void, close: () => void): Error | undefined };
    }
  ).api;
  let rows = -1;
  const push = () => {
    rows++;
  };
  const reader = object.body.getReader();
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

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/healthz") return new Response("ok");
    if (pathname === "/file" && request.method === "PUT") {
      const put = await env.RAW.put(KEY, request.body);
      return Response.json({ size: put?.size });
    }
    if (pathname === "/steps") return Response.json(await steps(env));
    if (pathname === "/baseline") return Response.json(await baseline(env));
    return new Response("not found", { status: 404 });
  },
};
