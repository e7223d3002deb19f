// Batch files benchmark: the parse steps of a 200 MiB generated file in each text format the Worker
// reads (CSV, TSV, JSON lines; the same rows in each), run with the Worker's own step code (src/files,
// through bench/workers/files-steps-core.ts) in Node — windows read by offset as R2 range reads would
// be, rows turned into envelopes and packed into INGEST bundles, then dropped — against baselines over
// the same rows in the same round: csv-parse's plain streaming parser (CSV; TSV with delimiter "\t"),
// and for JSON lines also a bare line splitter with JSON.parse per line, the floor for that format.
// Each run is its own process, so its peak memory is its own. Then the same steps in workerd
// (`wrangler dev`, bench/workers/files-steps-worker.ts, over local R2) against the same baselines there.
import { spawnSync } from "node:child_process";
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse";
import { type BenchFormat, parseJsonLines, stepsState, stepWindow } from "./workers/files-steps-core";
import { writeSection } from "./lib/results.mjs";
import { startWranglerDev } from "./lib/wrangler-dev.mjs";

const MEGABYTES = Number(process.env.FILES_BENCH_MB ?? 200);
/** A tenth of the size, parsed the same way: flat memory means both peak at the same level. */
const SMALL_MEGABYTES = Math.max(1, Math.round(MEGABYTES / 10));
const STEP_BYTES = 8 * 1024 * 1024;
const HEAP_MB = 128;
const ROUNDS = Number(process.env.FILES_BENCH_ROUNDS ?? 3);
/** FILES_BENCH_WORKERD=0: the Node runs only (and no section written). */
const WORKERD = process.env.FILES_BENCH_WORKERD !== "0";
/** FILES_BENCH_FORMATS=tsv,jsonl: only those formats' runs (and no section written). */
const FORMATS = (process.env.FILES_BENCH_FORMATS ?? "csv,tsv,jsonl").split(",") as BenchFormat[];
const ALL_FORMATS = FORMATS.length === 3;
const fileOf = (mb: number, format: BenchFormat) => join(tmpdir(), `loading-dock-files-bench-${mb}mb.${format}`);
const pad = (n: number, w: number) => String(n).padStart(w, "0");
const HEADERS: Record<BenchFormat, string> = {
  csv: "id,customer,amount,note,padding\n",
  tsv: "id\tcustomer\tamount\tnote\tpadding\n",
  jsonl: "",
};
/**
 * Row `i` in each format: the same values. CSV and TSV quote the note, which holds the delimiter,
 * doubled quotes and a line break; the JSON line nests the customer and a list, and its strings
 * hold escaped quotes, a backslash, an escaped line break and a non-ASCII character.
 */
const rowOf: Record<BenchFormat, (i: number) => string> = {
  csv: (i) =>
    `${pad(i, 9)},customer-${pad(i, 9)},${pad(i % 100000, 6)}.${pad(i % 100, 2)},"note, with ""quotes"" and a newline\nfor ${pad(i, 9)}",${"x".repeat(96)}\n`,
  tsv: (i) =>
    `${pad(i, 9)}\tcustomer-${pad(i, 9)}\t${pad(i % 100000, 6)}.${pad(i % 100, 2)}\t"note\twith ""quotes"" and a newline\nfor ${pad(i, 9)}"\t${"x".repeat(96)}\n`,
  jsonl: (i) =>
    `{"id":"${pad(i, 9)}","customer":{"name":"customer-${pad(i, 9)}","tier":${i % 5},"tags":["a","b\\\\c"]},"amount":${i % 100000}.${pad(i % 100, 2)},"note":"note, with \\"quotes\\" and a newline\\nfor ${pad(i, 9)} – ok","padding":"${"x".repeat(96)}"}\n`,
};
/** Every format holds the rows the CSV of `mb` MiB holds. */
const rowsFor = (mb: number) => Math.floor((mb * 1024 * 1024 - HEADERS.csv.length) / Buffer.byteLength(rowOf.csv(1)));

async function generate(mb: number, format: BenchFormat): Promise<void> {
  const file = fileOf(mb, format);
  if (existsSync(file)) return;
  const part = `${file}.part`;
  const out = createWriteStream(part);
  out.write(HEADERS[format]);
  const rows = rowsFor(mb);
  const row = rowOf[format];
  for (let i = 1; i <= rows; ) {
    let chunk = "";
    for (const stop = Math.min(rows, i + 5000); i <= stop; i++) chunk += row(i);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  renameSync(part, file);
}

function sampler() {
  let heap = 0;
  const sample = () => {
    heap = Math.max(heap, process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);
  };
  const timer = setInterval(sample, 20);
  return () => {
    clearInterval(timer);
    sample();
    return { peakRss: Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024), peakHeap: heap };
  };
}

/** The Worker's step loop, minus R2, D1 and the queue: windows by offset, rows, envelopes, bundles. */
async function dockSteps(file: string, format: BenchFormat): Promise<Record<string, number>> {
  const size = statSync(file).size;
  const fd = openSync(file, "r");
  const st = stepsState(format, `files/source=bench/x/big.${format}`);
  let offset = 0;
  const window = Buffer.alloc(STEP_BYTES);
  for (;;) {
    const read = readSync(fd, window, 0, STEP_BYTES, offset);
    const final = offset + read >= size;
    offset += stepWindow(st, window.subarray(0, read), final);
    if (final) break;
  }
  closeSync(fd);
  return { rows: st.rows, badRows: st.badRows, bundles: st.bundles, steps: st.steps };
}

/** csv-parse's streaming parser, records counted (less the header) and nothing else. */
async function csvParseBaseline(file: string, delimiter: string): Promise<Record<string, number>> {
  let rows = -1;
  const parser = createReadStream(file).pipe(parse({ relax_column_count: true, delimiter }));
  for await (const _ of parser) rows++;
  return { rows };
}

/** The floor for JSON lines: the file streamed as text, split at line breaks, each line JSON.parse'd. */
async function jsonLinesBaseline(file: string): Promise<Record<string, number>> {
  return parseJsonLines(createReadStream(file, { encoding: "utf8" }) as AsyncIterable<string>);
}

/** Processes under `pid` (wrangler dev's workerd runs a few levels down). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, of] of parent) {
      if (of !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** utime + stime of a process, in clock ticks (1/100 s). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

const mode = process.argv[2];
/** `cpuMs`: CPU time of the process (all its threads) for the run: less at the mercy of other work on the machine than `ms`. */
type Run = {
  rows: number;
  ms: number;
  cpuMs: number;
  peakRss: number;
  peakHeap: number;
  steps?: number;
  bundles?: number;
  badRows?: number;
};
/** A run's kind: the dock steps of a format, or a baseline. */
type Kind = `dock-${BenchFormat}` | "csvparse-csv" | "csvparse-tsv" | "lines-jsonl";
const formatOfKind = (kind: Kind) => kind.slice(kind.indexOf("-") + 1) as BenchFormat;

if (mode === "run") {
  const kind = process.argv[3] as Kind;
  const file = process.argv[4] as string;
  const stop = sampler();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const format = formatOfKind(kind);
  const result = kind.startsWith("dock-")
    ? await dockSteps(file, format)
    : kind === "lines-jsonl"
      ? await jsonLinesBaseline(file)
      : await csvParseBaseline(file, format === "tsv" ? "\t" : ",");
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  console.log(JSON.stringify({ ...result, ms, cpuMs: (used.user + used.system) / 1000, ...stop() }));
} else {
  for (const mb of [MEGABYTES, SMALL_MEGABYTES]) for (const f of ["csv", ...FORMATS] as BenchFormat[]) await generate(mb, f);
  const sizeOf = (f: BenchFormat) => (existsSync(fileOf(MEGABYTES, f)) ? statSync(fileOf(MEGABYTES, f)).size : 0);
  const sizes = { csv: sizeOf("csv"), tsv: sizeOf("tsv"), jsonl: sizeOf("jsonl") };
  // A Worker isolate has 128 MB: the dock runs get a V8 heap of that size and must finish inside it.
  const run = (kind: Kind, mb = MEGABYTES): Run => {
    const heapFlag = kind.startsWith("dock-") ? [`--max-old-space-size=${HEAP_MB}`] : [];
    const args = [...heapFlag, ...process.execArgv, process.argv[1] as string, "run", kind, fileOf(mb, formatOfKind(kind))];
    const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${kind} failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").pop() as string) as Run;
  };
  const load = () => loadavg()[0]?.toFixed(1) as string;
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((x, y) => x - y);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  };
  const rate = (r: Run) => r.rows / (r.ms / 1000);
  const cpuRate = (r: Run) => r.rows / (r.cpuMs / 1000);
  const n = (x: number) => Math.round(x).toLocaleString("en");
  const loads: string[] = [load()];
  /** Each round runs every kind once, each format's baseline just before its dock run; rounds[i][kind]. */
  const order: Kind[] = [];
  if (FORMATS.includes("csv") || FORMATS.includes("jsonl")) order.push("csvparse-csv");
  if (FORMATS.includes("csv")) order.push("dock-csv");
  if (FORMATS.includes("tsv")) order.push("csvparse-tsv", "dock-tsv");
  if (FORMATS.includes("jsonl")) order.push("lines-jsonl", "dock-jsonl");
  const checkRows = (where: string, runs: Partial<Record<Kind, Run>>) => {
    const counts = Object.entries(runs).map(([k, r]) => `${k} ${(r as Run).rows}`);
    if (new Set(Object.values(runs).map((r) => (r as Run).rows)).size !== 1)
      throw new Error(`${where}: row counts differ: ${counts.join(", ")}`);
    for (const [k, r] of Object.entries(runs))
      if ((r as Run).badRows) throw new Error(`${where}: ${k} found ${(r as Run).badRows} bad rows`);
  };
  const node: Partial<Record<Kind, Run>>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const runs: Partial<Record<Kind, Run>> = {};
    for (const kind of order) {
      runs[kind] = run(kind);
      const r = runs[kind] as Run;
      console.log(`node round ${round + 1}: ${kind} ${n(rate(r))} rows/s (${n(cpuRate(r))}/CPU-s), ${(r.ms / 1000).toFixed(1)} s`);
    }
    checkRows(`node round ${round + 1}`, runs);
    node.push(runs);
  }
  const small: Partial<Record<Kind, Run>> = {};
  for (const f of FORMATS) small[`dock-${f}`] = run(`dock-${f}`, SMALL_MEGABYTES);
  loads.push(load());
  // workerd: the same steps (R2 range reads of local R2) and the baselines' cores in one `wrangler dev`.
  const workerd: Partial<Record<Kind, Run>>[] = [];
  if (WORKERD) {
    const dev = await startWranglerDev({ config: "bench/workers/files-steps.toml", freeze: true });
    try {
      for (const f of new Set(order.map(formatOfKind))) {
        const put = await fetch(`${dev.url}/file?format=${f}`, {
          method: "PUT",
          body: createReadStream(fileOf(MEGABYTES, f)) as unknown as BodyInit,
          duplex: "half",
          headers: { "content-length": String(sizes[f]) },
        } as RequestInit);
        if (!put.ok) throw new Error(`PUT /file?format=${f}: ${put.status} ${await put.text()}`);
      }
      // wrangler dev runs two workerd processes (the Worker, and its local dev plumbing): both are counted.
      const workerdPids = descendants(dev.pid).filter((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]?.endsWith("/workerd"),
      );
      const workerdTicks = () => workerdPids.reduce((sum, pid) => sum + cpuTicks(pid), 0);
      // A request wrangler dev cuts ("Your worker restarted mid-request") is run again, at most twice; the timing is the good run's.
      const timed = async (kind: Kind, tries = 3): Promise<Run> => {
        const cpu = workerdTicks();
        const started = performance.now();
        const res = await fetch(`${dev.url}/run?kind=${kind}`, { method: "POST" });
        const text = await res.text();
        if (!res.ok) {
          if (tries > 1) return timed(kind, tries - 1);
          throw new Error(`${kind}: ${res.status} ${text}`);
        }
        const ms = performance.now() - started;
        return {
          ...(JSON.parse(text) as Run),
          ms,
          cpuMs: workerdPids.length > 0 ? (workerdTicks() - cpu) * 10 : Number.NaN,
          peakRss: 0,
          peakHeap: 0,
        };
      };
      for (let round = 0; round < ROUNDS; round++) {
        const runs: Partial<Record<Kind, Run>> = {};
        for (const kind of order) {
          runs[kind] = await timed(kind);
          const r = runs[kind] as Run;
          console.log(`workerd round ${round + 1}: ${kind} ${n(rate(r))} rows/s (${n(cpuRate(r))}/CPU-s), ${(r.ms / 1000).toFixed(1)} s`);
        }
        checkRows(`workerd round ${round + 1}`, runs);
        workerd.push(runs);
      }
    } finally {
      await dev.stop();
    }
    loads.push(load());
  }
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  const of = (rounds: Partial<Record<Kind, Run>>[], kind: Kind) => rounds.map((r) => r[kind] as Run);
  const ratios = (rounds: Partial<Record<Kind, Run>>[], dock: Kind, base: Kind, by: (r: Run) => number) =>
    rounds.map((r) => by(r[dock] as Run) / by(r[base] as Run));
  const ratioText = (xs: number[]) => `**${median(xs).toFixed(2)}×** (${xs.map((x) => x.toFixed(2)).join(" / ")})`;
  const NAMES: Record<Kind, string> = {
    "csvparse-csv": "csv-parse, CSV",
    "csvparse-tsv": 'csv-parse (delimiter "\\t"), TSV',
    "lines-jsonl": "line splitter + JSON.parse, JSON lines",
    "dock-csv": "**dock steps, CSV**",
    "dock-tsv": "**dock steps, TSV**",
    "dock-jsonl": "**dock steps, JSON lines**",
  };
  const rateLine = (where: string, rounds: Partial<Record<Kind, Run>>[], kind: Kind, memory: boolean) => {
    const runs = of(rounds, kind);
    const smallRun = memory && kind.startsWith("dock-") ? small[kind] : undefined;
    const rates = runs.map((x) => n(rate(x))).join(" / ");
    const cpuRates = runs.map((x) => n(cpuRate(x))).join(" / ");
    const heap = memory ? mb(Math.max(...runs.map((r) => r.peakHeap))) : "—";
    const rss = memory ? mb(Math.max(...runs.map((r) => r.peakRss))) : "—";
    const smallText = smallRun ? `${mb(smallRun.peakHeap)} / ${mb(smallRun.peakRss)}` : "—";
    return `| ${where}: ${NAMES[kind]} | ${(median(runs.map((r) => r.ms)) / 1000).toFixed(1)} | ${n(median(runs.map(rate)))} (${rates}) | ${n(median(runs.map(cpuRate)))} (${cpuRates}) | ${heap} | ${rss} | ${smallText} |`;
  };
  const PAIRS: { format: BenchFormat; dock: Kind; base: Kind; target: boolean }[] = [
    { format: "csv", dock: "dock-csv", base: "csvparse-csv", target: true },
    { format: "tsv", dock: "dock-tsv", base: "csvparse-tsv", target: true },
    { format: "jsonl", dock: "dock-jsonl", base: "csvparse-csv", target: true },
    { format: "jsonl", dock: "dock-jsonl", base: "lines-jsonl", target: false },
  ];
  const FORMAT_NAMES: Record<BenchFormat, string> = { csv: "CSV", tsv: "TSV", jsonl: "JSON lines" };
  const ratioLine = (where: string, rounds: Partial<Record<Kind, Run>>[], p: (typeof PAIRS)[number]) => {
    const wall = ratios(rounds, p.dock, p.base, rate);
    const cpu = ratios(rounds, p.dock, p.base, cpuRate);
    const met = !p.target
      ? "— (the format's floor, no target)"
      : median(wall) >= 0.5 && median(cpu) >= 0.5
        ? "**met** (wall and CPU)"
        : median(cpu) >= 0.5
          ? "met by CPU, not by wall"
          : median(wall) >= 0.5
            ? "met by wall, not by CPU"
            : "**not met**";
    return `| ${where} | ${FORMAT_NAMES[p.format]} | ${NAMES[p.base]} | ${ratioText(wall)} | ${ratioText(cpu)} | ${where === "Node" ? met : "— (rate reported)"} |`;
  };
  const pairs = PAIRS.filter((p) => order.includes(p.dock) && order.includes(p.base));
  const first = node[0] as Partial<Record<Kind, Run>>;
  const rows = (first[order[0] as Kind] as Run).rows;
  const text = `
Parsing ${mb(sizes.csv)} MiB of generated CSV (${rows.toLocaleString("en")} rows of ${Buffer.byteLength(rowOf.csv(1))} bytes, each with a
quoted note holding a comma, doubled quotes and a line break), the same rows as TSV (${mb(sizes.tsv)} MiB; the note quoted,
holding a tab, doubled quotes and a line break) and as JSON lines (${mb(sizes.jsonl)} MiB; a nested customer object with a list,
strings with escaped quotes, a backslash, an escaped line break and a non-ASCII character). ${ROUNDS} rounds; medians, each
round's figure in brackets. **Node**: the Worker's own step code (\`src/files/csv-rows.ts\` with its fast path
\`csv-scan.ts\` for CSV and TSV, \`JsonLinesReader\` in \`text-rows.ts\` for JSON lines, \`envelopes.ts\`, the INGEST bundle
packer; the loop in \`bench/workers/files-steps-core.ts\` builds each row as \`textStep\` does): ${first["dock-csv"]?.steps ?? first["dock-tsv"]?.steps ?? first["dock-jsonl"]?.steps} steps of
${STEP_BYTES / 2 ** 20} MiB read by offset as the Worker's R2 range reads do, rows taken a batch of 1,000 at a time, every row built
into its envelope (dock id; for CSV/TSV the JSON of its string fields, for JSON lines the line checked by JSON.parse and kept
verbatim) and packed into bundles, then dropped. Baselines in the same round, each just before the dock run it is compared
with: csv-parse's streaming parser over the CSV (and, with delimiter \`"\\t"\`, over the TSV), rows counted and nothing else;
for JSON lines the issue's baseline is csv-parse over the CSV of the same rows, and the format's own floor a bare line
splitter (the file streamed as UTF-8 text, split at \`\\n\`, \`JSON.parse\` of each line). Each run is its own process; the
dock runs with \`--max-old-space-size=${HEAP_MB}\`, a Worker's 128 MB, and they finish inside it. "JS heap + buffers" is
\`heapUsed + arrayBuffers\` sampled every 20 ms; RSS is the process's high-water mark (V8 grows its heap lazily, so RSS
overstates what is live). **workerd**: the same step code in \`wrangler dev\` (\`bench/workers/files-steps-worker.ts\`) over
the files in local R2, 8 MiB range reads, timed from Node around one request that runs all the steps; the baselines there
are csv-parse's core (\`Parser#api\`, the engine of its stream API) fed the R2 object's body, records counted, and the line
splitter over the JSON-lines body (TextDecoderStream) — csv-parse's stream wrapper needs node:stream plumbing the
Worker does not use. workerd's memory is not sampled here. The INGEST send (JSON of each bundle, gzip, \`sendBatch\`) is left
out in both runtimes. CPU time is the process's (Node: all its threads, GC included; workerd: wrangler dev's \`workerd\`
processes, which also serve local R2, from /proc in 10 ms ticks): with the cores shared, it is the steadier of the two measures.
Load average (1 min) before / after Node${WORKERD ? " / after workerd" : ""}: ${loads.join(" / ")} on ${cpus().length} cores — other work on the
machine slows both runs of a round alike, so compare within a round (the ratios), not absolute numbers.

Target (issue 19): each format's dock steps at ≥ 0.5× csv-parse's streaming parser in the same round, Node.

| runtime | format | baseline | dock ÷ baseline, rows/s (rounds) | dock ÷ baseline, rows per CPU-second (rounds) | ≥ 0.5× |
|---|---|---|---|---|---|
${pairs.map((p) => ratioLine("Node", node, p)).join("\n")}
${WORKERD ? pairs.map((p) => ratioLine("workerd", workerd, p)).join("\n") : ""}

| run | median s | median rows/s (rounds) | median rows per CPU-second (rounds) | peak JS heap + buffers MiB | peak RSS MiB | ${SMALL_MEGABYTES} MiB file: heap / RSS MiB |
|---|---|---|---|---|---|---|
${order.map((k) => rateLine("Node", node, k, true)).join("\n")}
${WORKERD ? order.map((k) => rateLine("workerd", workerd, k, false)).join("\n") : ""}

Memory is flat: a step holds one ${STEP_BYTES / 2 ** 20} MiB window (and its text), at most 1,000 parsed rows and their
envelopes, whatever the file size — compare the ${MEGABYTES} MiB runs with the ${SMALL_MEGABYTES} MiB ones (last column). The full
200 MB CSV also runs through the real ledger in the test suite (\`test/files/large-file.test.ts\`, every row counted exactly once).
`;
  if (ALL_FORMATS && WORKERD && MEGABYTES === 200) writeSection("Batch files", text);
  console.log(text);
}
