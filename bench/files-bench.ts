// Batch files benchmark: the parse steps of a 200 MB generated CSV, run with the Worker's own parser
// code (src/files) in Node — windows read by offset as R2 range reads would be, rows turned into
// envelopes and packed into INGEST bundles, then dropped — against csv-parse's plain streaming parser
// over the same file (no envelopes) as the baseline. Each run is its own process, so its peak RSS
// (sampled every 20 ms, and the kernel's high-water mark) is its own. Then the same steps in workerd
// (`wrangler dev`, bench/workers/files-steps-worker.ts, over local R2) against csv-parse's core there.
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
  statSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse";
import { packBundles } from "../src/envelope/bundle";
import { CsvWindowReader, fieldNames } from "../src/files/csv-rows";
import { rowObjectEnvelope } from "../src/files/envelopes";
import { writeSection } from "./lib/results.mjs";
import { startWranglerDev } from "./lib/wrangler-dev.mjs";

const MEGABYTES = Number(process.env.FILES_BENCH_MB ?? 200);
/** A tenth of the size, parsed the same way: flat memory means both peak at the same level. */
const SMALL_MEGABYTES = Math.max(1, Math.round(MEGABYTES / 10));
const STEP_BYTES = 8 * 1024 * 1024;
const HEAP_MB = 128;
const ROUNDS = Number(process.env.FILES_BENCH_ROUNDS ?? 3);
const fileOf = (mb: number) => join(tmpdir(), `loading-dock-files-bench-${mb}mb.csv`);
const pad = (n: number, w: number) => String(n).padStart(w, "0");
const HEADER = "id,customer,amount,note,padding\n";
const row = (i: number) =>
  `${pad(i, 9)},customer-${pad(i, 9)},${pad(i % 100000, 6)}.${pad(i % 100, 2)},"note, with ""quotes"" and a newline\nfor ${pad(i, 9)}",${"x".repeat(96)}\n`;

async function generate(mb: number): Promise<void> {
  const file = fileOf(mb);
  if (existsSync(file) && statSync(file).size >= mb * 1024 * 1024 - 1024) return;
  const out = createWriteStream(file);
  out.write(HEADER);
  const rowBytes = Buffer.byteLength(row(1));
  const rows = Math.floor((mb * 1024 * 1024 - HEADER.length) / rowBytes);
  for (let i = 1; i <= rows; ) {
    let chunk = "";
    for (const stop = Math.min(rows, i + 5000); i <= stop; i++) chunk += row(i);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
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
async function dockSteps(file: string): Promise<Record<string, number>> {
  const size = statSync(file).size;
  const fd = openSync(file, "r");
  const ctx = {
    source: "bench",
    name: "big.csv",
    key: "files/source=bench/x/big.csv",
    sha256: "0".repeat(64),
    runId: "r",
    receivedAt: new Date().toISOString(),
  };
  let offset = 0;
  let line = 1;
  let header: string[] | undefined;
  let rows = 0;
  let bundles = 0;
  let steps = 0;
  const window = Buffer.alloc(STEP_BYTES);
  for (;;) {
    const read = readSync(fd, window, 0, STEP_BYTES, offset);
    const final = offset + read >= size;
    // As textStep does: rows a batch of 1,000 at a time, each batch into envelopes and bundles.
    const reader = new CsvWindowReader(window.subarray(0, read), { delimiter: ",", encoding: "utf8", startLine: line, final });
    let items = reader.read(1000);
    if (!header) {
      header = fieldNames(items[0]?.fields ?? []);
      items = items.slice(1);
    }
    for (let batch = 0; batch === 0 || items.length > 0; batch++, items = reader.read(1000)) {
      const records = items.map((item) => rowObjectEnvelope(ctx, "big", item.line, header as string[], item.fields ?? []));
      rows += records.length;
      bundles += packBundles({ source: "bench", stream: "big", pattern: "file", received_at: ctx.receivedAt, dedupe: "bundle" }, records)
        .bundles.length;
    }
    const parsed = { consumed: reader.consumed, nextLine: reader.nextLine };
    steps++;
    offset += parsed.consumed;
    line = parsed.nextLine;
    if (final) break;
  }
  closeSync(fd);
  return { rows, bundles, steps };
}

async function baseline(file: string): Promise<Record<string, number>> {
  let rows = -1;
  const parser = createReadStream(file).pipe(parse({ relax_column_count: true }));
  for await (const _ of parser) rows++;
  return { rows };
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
if (mode === "dock" || mode === "baseline") {
  const stop = sampler();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const file = process.argv[3] as string;
  const result = mode === "dock" ? await dockSteps(file) : await baseline(file);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  console.log(JSON.stringify({ ...result, ms, cpuMs: (used.user + used.system) / 1000, ...stop() }));
} else {
  await generate(MEGABYTES);
  await generate(SMALL_MEGABYTES);
  const size = statSync(fileOf(MEGABYTES)).size;
  /** `cpuMs`: CPU time of the process (all its threads) for the run: less at the mercy of other work on the machine than `ms`. */
  type Run = { rows: number; ms: number; cpuMs: number; peakRss: number; peakHeap: number; steps?: number; bundles?: number };
  // A Worker isolate has 128 MB: the dock run gets a V8 heap of that size and must finish inside it.
  const run = (m: string, mb = MEGABYTES): Run => {
    const heapFlag = m === "dock" ? [`--max-old-space-size=${HEAP_MB}`] : [];
    const r = spawnSync(process.execPath, [...heapFlag, ...process.execArgv, process.argv[1] as string, m, fileOf(mb)], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    if (r.status !== 0) throw new Error(`${m} failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").pop() as string) as Run;
  };
  const load = () => loadavg()[0]?.toFixed(1);
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((x, y) => x - y);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  };
  const rate = (r: Run) => r.rows / (r.ms / 1000);
  const cpuRate = (r: Run) => r.rows / (r.cpuMs / 1000);
  const loads: string[] = [load() as string];
  // Node: each round runs the baseline then the dock steps, back to back, so a round's ratio compares like with like.
  const node: { base: Run; dock: Run }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const base = run("baseline");
    const dock = run("dock");
    if (dock.rows !== base.rows) throw new Error(`row counts differ: dock ${dock.rows}, csv-parse ${base.rows}`);
    node.push({ base, dock });
    console.log(
      `node round ${round + 1}: csv-parse ${Math.round(rate(base))} rows/s (${Math.round(cpuRate(base))}/CPU-s), dock ${Math.round(rate(dock))} rows/s (${Math.round(cpuRate(dock))}/CPU-s)`,
    );
  }
  const small = run("dock", SMALL_MEGABYTES);
  loads.push(load() as string);
  // workerd: the same steps (R2 range reads of local R2) and csv-parse's core in one `wrangler dev`.
  const workerd: { base: Run; dock: Run }[] = [];
  const dev = await startWranglerDev({ config: "bench/workers/files-steps.toml", freeze: true });
  try {
    const put = await fetch(`${dev.url}/file`, {
      method: "PUT",
      body: createReadStream(fileOf(MEGABYTES)) as unknown as BodyInit,
      duplex: "half",
      headers: { "content-length": String(size) },
    } as RequestInit);
    if (!put.ok) throw new Error(`PUT /file: ${put.status} ${await put.text()}`);
    // wrangler dev runs two workerd processes (the Worker, and its local dev plumbing): both are counted.
    const workerdPids = descendants(dev.pid).filter((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]?.endsWith("/workerd"),
    );
    const workerdTicks = () => workerdPids.reduce((sum, pid) => sum + cpuTicks(pid), 0);
    // A request wrangler dev cuts ("Your worker restarted mid-request") is run again, at most twice; the timing is the good run's.
    const timed = async (route: string, tries = 3): Promise<Run> => {
      const cpu = workerdTicks();
      const started = performance.now();
      const res = await fetch(`${dev.url}/${route}`, { method: "POST" });
      const text = await res.text();
      if (!res.ok) {
        if (tries > 1) return timed(route, tries - 1);
        throw new Error(`${route}: ${res.status} ${text}`);
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
      const base = await timed("baseline");
      const dock = await timed("steps");
      if (dock.rows !== base.rows) throw new Error(`workerd row counts differ: dock ${dock.rows}, csv-parse ${base.rows}`);
      workerd.push({ base, dock });
      console.log(
        `workerd round ${round + 1}: csv-parse core ${Math.round(rate(base))} rows/s (${Math.round(cpuRate(base))}/CPU-s), dock ${Math.round(rate(dock))} rows/s (${Math.round(cpuRate(dock))}/CPU-s)`,
      );
    }
  } finally {
    await dev.stop();
  }
  loads.push(load() as string);
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  const n = (x: number) => Math.round(x).toLocaleString("en");
  const summary = (runs: Run[]) => {
    const ms = median(runs.map((r) => r.ms));
    return {
      rows: runs[0]?.rows ?? 0,
      ms,
      peakHeap: Math.max(...runs.map((r) => r.peakHeap)),
      peakRss: Math.max(...runs.map((r) => r.peakRss)),
    };
  };
  const ratioText = (pairs: { base: Run; dock: Run }[], by: (r: Run) => number) => {
    const ratios = pairs.map((p) => by(p.dock) / by(p.base));
    return `**${median(ratios).toFixed(2)}×** (${ratios.map((x) => x.toFixed(2)).join(" / ")})`;
  };
  const line = (name: string, runs: Run[], pairs?: { base: Run; dock: Run }[], memory = true) => {
    const r = summary(runs);
    const rates = runs.map((x) => n(rate(x))).join(" / ");
    const cpuRates = runs.map((x) => n(cpuRate(x))).join(" / ");
    const ratios = pairs ? [ratioText(pairs, rate), ratioText(pairs, cpuRate)] : ["—", "—"];
    return `| ${name} | ${r.rows.toLocaleString("en")} | ${(r.ms / 1000).toFixed(1)} | ${n(median(runs.map(rate)))} (${rates}) | ${ratios[0]} | ${n(median(runs.map(cpuRate)))} (${cpuRates}) | ${ratios[1]} | ${memory ? mb(r.peakHeap) : "—"} | ${memory ? mb(r.peakRss) : "—"} |`;
  };
  const dock0 = node[0]?.dock as Run;
  const text = `
Parsing a ${mb(size)} MiB generated CSV (${dock0.rows.toLocaleString("en")} rows of ${Buffer.byteLength(row(1))} bytes, each
with a quoted field holding a comma, doubled quotes and a newline), ${ROUNDS} rounds; medians, each round's figure in brackets.
**Node**: the Worker's own code (\`src/files/csv-rows.ts\` with its fast path \`csv-scan.ts\`, \`envelopes.ts\`, the INGEST
bundle packer): ${dock0.steps} steps of ${STEP_BYTES / 2 ** 20} MiB read by offset as the Worker's R2 range reads do, rows taken a
batch of 1,000 at a time as \`textStep\` does, every row built into its envelope (dock id, JSON of the string fields) and
packed into ${dock0.bundles?.toLocaleString("en")} bundles, then dropped. Baseline in the same round: csv-parse's streaming
parser over the same file, rows counted and nothing else. Each in its own process; the dock run with
\`--max-old-space-size=${HEAP_MB}\`, a Worker's 128 MB, and it finishes inside it. "JS heap + buffers" is
\`heapUsed + arrayBuffers\` sampled every 20 ms; RSS is the process's high-water mark (V8 grows its heap lazily, so RSS
overstates what is live). **workerd**: the same step code in \`wrangler dev\` (\`bench/workers/files-steps-worker.ts\`)
over the file in local R2, 8 MiB range reads, timed from Node around one request that runs all the steps; its
baseline is csv-parse's core (\`Parser#api\`, the engine of its stream API) fed the R2 object's body, records
counted — the stream wrapper itself needs node:stream plumbing the Worker does not use. workerd's memory is not
sampled here. The INGEST send (JSON of each bundle, gzip, \`sendBatch\`) is left out in both runtimes. CPU time is
the process's (Node: all its threads, GC included; workerd: wrangler dev's \`workerd\` processes, which also serve local R2,
from /proc in 10 ms ticks): with the cores shared, it is the steadier of the two measures.
Load average (1 min) before / after Node / after workerd: ${loads.join(" / ")} on ${cpus().length} cores — other work on
the machine slows both runs of a round alike, so compare within a round (the ratio column), not absolute numbers.

| run | rows | median s | median rows/s (rounds) | dock ÷ baseline (rounds) | median rows per CPU-second (rounds) | dock ÷ baseline by CPU (rounds) | peak JS heap + buffers MiB | peak RSS MiB |
|---|---|---|---|---|---|---|---|---|
${line(
  "Node: csv-parse stream (baseline)",
  node.map((p) => p.base),
)}
${line(
  "Node: dock parse steps (envelopes + bundles)",
  node.map((p) => p.dock),
  node,
)}
${line(`Node: same, ${SMALL_MEGABYTES} MiB file (flatness check)`, [small])}
${line(
  "workerd: csv-parse core over the R2 body (baseline)",
  workerd.map((p) => p.base),
  undefined,
  false,
)}
${line(
  "workerd: dock parse steps (envelopes + bundles)",
  workerd.map((p) => p.dock),
  workerd,
  false,
)}

Memory is flat: a step holds one ${STEP_BYTES / 2 ** 20} MiB window (and its text), at most 1,000 parsed rows and their
envelopes, whatever the file size — compare the ${MEGABYTES} MiB and ${SMALL_MEGABYTES} MiB rows. The full 200 MB also
runs through the real ledger in the test suite (\`test/files/large-file.test.ts\`, every row counted exactly once).
`;
  writeSection("Batch files", text);
  console.log(text);
}
