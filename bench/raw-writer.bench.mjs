#!/usr/bin/env node
// The raw writer: a queue consumer invocation (`processIngestBatch`: deliver the messages, resolve
// them, dedupe read, gzip, one R2 put, ledger write, ack) over batches of 100 messages, in workerd
// against local D1 and R2 (bench/workers: raw-writer-routes.ts), timed from outside the Worker.
// Each batch's time is split inside the Worker (waits on D1, ledger shards, R2; the rest is JS), and
// checked against the same batches with D1 and R2 answering at once. Each ledger (RECORD_LEDGER) with
// the local stores' state on disk, then in tmpfs. ROUNDS rounds, medians. BENCH_CASES=100x1,1x100,100x100 picks cases;
// BENCH_LEDGERS=d1,sharded (RECORD_LEDGER of each run); BENCH_VARS='{"LEDGER_SHARDS":"4"}' passes vars.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { writeSection } from "./lib/results.mjs";
import { cpuMs, workerdProcesses } from "./lib/workerd-cpu.mjs";
import { profileWhile } from "./lib/workerd-profile.mjs";
import { startWranglerDev } from "./lib/wrangler-dev.mjs";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
// BENCH_PROFILE_BATCHES=60 adds the CPU profiles (a run at 90 batches once hung in the profiler; off by default).
const PROFILE_BATCHES = Number(process.env.BENCH_PROFILE_BATCHES ?? 0);
const ONLY = process.env.BENCH_CASES?.split(",");
const CASES = [
  { id: "100x1", name: "100 messages × 1 envelope", batches: 60, size: 100, perMessage: 1 },
  { id: "1x100", name: "1 message × 100 envelopes", batches: 30, size: 100, perMessage: 100 },
  // Three batches: the prepared messages of six came near the Worker's 128 MB, and wrangler dev restarted it.
  { id: "100x100", name: "100 messages × 100 envelopes", batches: 3, size: 10_000, perMessage: 100 },
].filter((c) => !ONLY || ONLY.includes(c.id));
const extra = JSON.parse(process.env.BENCH_VARS ?? "{}");
/** The shard count the Worker uses when LEDGER_SHARDS is not set, as src/ledger/index.ts has it. */
const DEFAULT_SHARDS = /LEDGER_SHARDS \?\? "(\d+)"/.exec(readFileSync("src/ledger/index.ts", "utf8"))?.[1] ?? "?";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n) => Math.round(n).toLocaleString("en-US");
const ms2 = (n) => (Number.isNaN(n) ? "n/a" : n.toFixed(2));

const fmtRate = (c, ms) => (c.batches * c.size) / (ms / 1000);

/**
 * CPU ms (user + system, all threads) of all the workerd processes under a wrangler pid: the Worker's
 * (with its local D1/R2/Durable Object simulators) and wrangler's proxy.
 */
function workerdCpuMs(wranglerPid) {
  if (!wranglerPid) return Number.NaN;
  const parent = new Map();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(e), {
        ppid: Number(f[1]),
        cpu: (Number(f[11]) + Number(f[12])) * 10,
        comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      });
    } catch {}
  }
  let total = 0;
  for (const p of parent.values()) {
    if (p.comm !== "workerd") continue;
    for (let up = p.ppid; up > 1; up = parent.get(up)?.ppid ?? 0)
      if (up === wranglerPid) {
        total += p.cpu;
        break;
      }
  }
  return total;
}

/** One `wrangler dev` with its local state under `dir`; every case, ROUNDS rounds. */
async function runAll(dir, ledger) {
  process.env.TMPDIR = dir; // startWranglerDev makes the state folder in os.tmpdir()
  const bench = await startWranglerDev({
    config: "bench/workers/wrangler.toml",
    health: "/bare",
    vars: { ...extra, RECORD_LEDGER: ledger },
    // The Worker bundled once at start: an edit in the shared tree must not restart it mid-run.
    freeze: true,
  });
  const post = async (path) => {
    const res = await fetch(`${bench.url}${path}`, { method: "POST" });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}\n${bench.log().slice(-3000)}`);
    return res.json();
  };
  // The Worker's workerd process (the Worker, its local D1 and R2, the ledger shards) apart from the
  // workerd of wrangler's proxy (the dev port and the inspector's relay), which production does not have.
  const procs = workerdProcesses(bench.pid, Number(new URL(bench.url).port));
  const procCpu = () => ({ worker: cpuMs(procs.worker), proxy: procs.proxy ? cpuMs(procs.proxy) : 0, all: workerdCpuMs(bench.pid) });
  const timed = async (path) => {
    const cpu = procCpu();
    const started = performance.now();
    const body = await post(path);
    const after = procCpu();
    return {
      ...body,
      ms: performance.now() - started,
      cpuMs: after.worker - cpu.worker,
      proxyMs: after.proxy - cpu.proxy,
      allMs: after.all - cpu.all,
    };
  };
  const results = [];
  const floors = [];
  let profile = null;
  try {
    // Warm-up: the first requests compile the Worker's code paths and create the local stores' files.
    await post("/writer/prepare?batches=5&size=100&per_message=1");
    await post("/writer/run");
    await post("/writer/run?path=writer");
    for (const c of CASES) {
      const q = `batches=${c.batches}&size=${c.size}&per_message=${c.perMessage}`;
      const runs = [];
      for (let round = 0, restarts = 0; round < ROUNDS; round++) {
        const r = {};
        try {
          // Fresh ids before each run that writes the ledger: a repeat would be dropped as duplicates.
          r.prepared = await post(`/writer/prepare?${q}`);
          r.consumer = await timed("/writer/run");
          await post(`/writer/prepare?${q}`);
          r.plain = await timed("/writer/run?storage=plain");
          await post(`/writer/prepare?${q}`);
          r.quiet = await timed("/writer/run?storage=plain&quiet=1");
          await post(`/writer/prepare?${q}`);
          r.concurrent = await timed(`/writer/run?concurrency=${CONCURRENCY}`);
          await post(`/writer/prepare?${q}`);
          r.writer = await timed("/writer/run?path=writer");
          r.none = await timed("/writer/run?storage=none");
          r.gzip = await timed("/writer/part/gzip");
          // The floor: the same batches' store calls replayed with no writer logic (fresh ids each time).
          await post(`/writer/prepare?${q}`);
          r.floorCalls = await post("/writer/floor/capture");
          r.floor = await timed("/writer/floor/run");
          await post(`/writer/prepare?${q}`);
          await post("/writer/floor/capture");
          r.floorPut = await timed("/writer/floor/run?only=put");
          r.floorLedger = await timed("/writer/floor/run?only=ledger");
          if (ledger === "sharded") {
            await post(`/writer/prepare?${q}`);
            await post("/writer/floor/capture");
            r.floorStubs = await timed("/writer/floor/run?stubs=batch");
            r.floorEcho = await timed("/writer/floor/run?only=ledger&shards=echo");
          }
          for (const k of ["consumer", "plain", "concurrent"])
            if (r[k].acked_batches !== c.batches || r[k].envelopes !== c.batches * c.size)
              throw new Error(
                `${c.name}: ${k} acked ${r[k].acked_batches}/${c.batches} batches${r[k].batches === 0 ? " (nothing prepared: the Worker restarted)" : ""}`,
              );
        } catch (err) {
          // wrangler dev sometimes restarts the Worker mid-request (503), losing the prepared batches: redo the round.
          if (!String(err).includes("restarted")) throw err;
          if (++restarts > 3) {
            console.log(`[${dir}] ${c.name}: the Worker restarted ${restarts} times; keeping ${runs.length} round(s)`);
            break;
          }
          console.log(`[${dir}] ${c.name} round ${round + 1}: the Worker restarted, redoing the round`);
          round--;
          continue;
        }
        runs.push(r);
        if (c === CASES[0]) {
          const put = await timed("/writer/part/put?variant=bare");
          const d1 = await timed("/writer/part/d1?repeat=60");
          floors.push({ put: put.inside_ms / put.ops, putCpu: put.cpuMs / put.ops, d1: d1.inside_ms / d1.ops, d1Cpu: d1.cpuMs / d1.ops });
        }
        console.log(
          `[${dir}] ${c.name} round ${round + 1}: consumer ${fmt(fmtRate(c, r.consumer.ms))}/s, ` +
            `${CONCURRENCY} in flight ${fmt(fmtRate(c, r.concurrent.ms))}/s, writeBundles only ${fmt(fmtRate(c, r.writer.ms))}/s, ` +
            `uncounted ${fmt(fmtRate(c, r.plain.ms))}/s, floor ${fmt(fmtRate(c, r.floor.ms))}/s; workerd CPU ms/batch: consumer ${ms2(r.consumer.cpuMs / c.batches)}, ` +
            `uncounted ${ms2(r.plain.cpuMs / c.batches)}, log lines dropped ${ms2(r.quiet.cpuMs / c.batches)}, ` +
            `floor ${ms2(r.floor.cpuMs / c.batches)} (put ${ms2(r.floorPut.cpuMs / c.batches)}, ledger ${ms2(r.floorLedger.cpuMs / c.batches)}), ` +
            `no storage ${ms2(r.none.cpuMs / c.batches)}; proxy workerd: consumer ${ms2(r.plain.proxyMs / c.batches)}, floor ${ms2(r.floor.proxyMs / c.batches)}; load ${loadavg()[0].toFixed(2)}`,
        );
      }
      if (runs.length === 0) continue;
      const med = (f) => median(runs.map(f));
      results.push({
        ...c,
        rate: {
          consumer: med((r) => fmtRate(c, r.consumer.ms)),
          concurrent: med((r) => fmtRate(c, r.concurrent.ms)),
          plain: med((r) => fmtRate(c, r.plain.ms)),
          floor: med((r) => fmtRate(c, r.floor.ms)),
          writer: med((r) => fmtRate(c, r.writer.ms)),
        },
        rounds: runs.map((r) => fmtRate(c, r.consumer.ms)),
        cpuRounds: runs.map((r) => r.plain.cpuMs / c.batches),
        floorCpuRounds: runs.map((r) => r.floor.cpuMs / c.batches),
        floorCalls: runs[0].floorCalls,
        ms: {
          outside: med((r) => r.consumer.ms / c.batches),
          cpu: med((r) => r.consumer.cpuMs / c.batches),
          inside: med((r) => r.consumer.inside_ms),
          d1: med((r) => r.consumer.d1_ms),
          d1Read: med((r) => r.consumer.d1_read_ms ?? Number.NaN),
          d1Write: med((r) => r.consumer.d1_write_ms ?? Number.NaN),
          r2: med((r) => r.consumer.r2_ms),
          shards: med((r) => r.consumer.shards_ms),
          js: med((r) => r.consumer.inside_ms - r.consumer.io_ms),
          plainCpu: med((r) => r.plain.cpuMs / c.batches),
          quietCpu: med((r) => r.quiet.cpuMs / c.batches),
          floorCpu: med((r) => r.floor.cpuMs / c.batches),
          plainProxy: med((r) => r.plain.proxyMs / c.batches),
          floorProxy: med((r) => r.floor.proxyMs / c.batches),
          plainAll: med((r) => r.plain.allMs / c.batches),
          floorStubsCpu: ledger === "sharded" ? med((r) => r.floorStubs.cpuMs / c.batches) : Number.NaN,
          floorEchoCpu: ledger === "sharded" ? med((r) => r.floorEcho.cpuMs / c.batches) : Number.NaN,
          concurrentCpu: med((r) => r.concurrent.cpuMs / c.batches),
          floorPutCpu: med((r) => r.floorPut.cpuMs / c.batches),
          floorLedgerCpu: med((r) => r.floorLedger.cpuMs / c.batches),
          floorOutside: med((r) => r.floor.ms / c.batches),
          noneCpu: med((r) => r.none.cpuMs / c.batches),
          none: med((r) => r.none.ms / c.batches),
          gzip: med((r) => r.gzip.ms / c.batches),
        },
        d1Trips: runs[0].consumer.d1_round_trips_per_batch,
        shardCalls: runs[0].consumer.shard_calls_per_batch,
        objects: runs[0].consumer.objects_per_batch,
      });
    }
    // A CPU profile of the Worker's isolate over consumer invocations of 100 × 1 batches, after the measured rounds.
    if (PROFILE_BATCHES > 0) {
      profile = { batches: PROFILE_BATCHES };
      for (const storage of ["plain", "none"]) {
        await post(`/writer/prepare?batches=${PROFILE_BATCHES}&size=100&per_message=1`);
        profile[storage] = (await profileWhile(bench.inspectorPort, () => post(`/writer/run?storage=${storage}&quiet=1`))).summary;
      }
    }
  } finally {
    await bench.stop();
  }
  return {
    dir,
    ledger,
    results,
    profile,
    floor: {
      put: median(floors.map((f) => f.put)),
      d1: median(floors.map((f) => f.d1)),
      d1Cpu: median(floors.map((f) => f.d1Cpu)),
      putCpu: median(floors.map((f) => f.putCpu)),
    },
  };
}

/** The profile's self time per batch: V8's categories and files, then functions (ours: src/). */
function profileText(batches, summary, what) {
  const idle = summary.categories.find((c) => c.name === "(idle)")?.ms ?? 0;
  const us = (ms) => ((1000 * ms) / batches).toFixed(0);
  const rows = (list, n) =>
    list
      .slice(0, n)
      .map((e) => `| ${e.name.replaceAll("|", "\\|")} | ${us(e.ms)} |`)
      .join("\n");
  const files = [...summary.categories.filter((c) => c.name !== "(idle)"), ...summary.byFile].sort((a, b) => b.ms - a.ms);
  const ours = summary.byFunction.filter((f) => / src\//.test(f.name));
  return `CPU profile of the Worker's isolate (V8 sampling profiler over the inspector, \`bench/lib/workerd-profile.mjs\`) over
${batches} consumer invocations of 100 × 1, ${what}: busy ${us(summary.totalMs - idle)} µs per batch (the profiler slows the isolate;
log lines dropped: with the inspector attached each one is a DevTools message; the local D1 and R2 run in other isolates and are not in it, the ledger shards are in it; V8 builtins such as JSON.stringify count as their caller's self time).

| file or V8 category | self µs / batch |
|---|---|
${rows(files, 12)}

| function (src/ only) | self µs / batch |
|---|---|
${rows(ours, 12)}`;
}

const loadBefore = loadavg()[0];
const runsByState = [];
for (const dir of (process.env.BENCH_STATE_DIRS ?? "/tmp,/dev/shm").split(","))
  for (const ledger of (process.env.BENCH_LEDGERS ?? "d1,sharded").split(",")) {
    runsByState.push(await runAll(dir, ledger));
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(runsByState, null, 1));
  }
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(runsByState, null, 1));
const loadAfter = loadavg()[0];
const where = (dir) => (dir.startsWith("/dev/shm") ? "state in tmpfs (/dev/shm)" : `state on disk (${dir})`);
const tables = runsByState
  .map(
    ({
      dir,
      ledger,
      results,
      floor,
      profile,
    }) => `**${ledger === "d1" ? "D1 ledger" : `Sharded ledger (${extra.LEDGER_SHARDS ?? DEFAULT_SHARDS} Durable Object shards)`}, local ${where(dir)}.** Round trips doing nothing, in the same \`wrangler dev\`: a bare R2 put of 16 bytes
${ms2(floor.put)} ms (${ms2(floor.putCpu)} ms of workerd CPU), a D1 round trip (\`SELECT 1\`) ${ms2(floor.d1)} ms (${ms2(floor.d1Cpu)} ms of workerd CPU):
one put and two empty D1 round trips alone take ${ms2(floor.putCpu + 2 * floor.d1Cpu)} ms of workerd CPU (the target needs ≤ 4 ms per 100 envelopes).

| batch | batches × envelopes | consumer, one batch at a time (env/s) | rounds (env/s) | consumer, stores uncounted (env/s) | floor: the same store calls alone (env/s) | ${CONCURRENCY} batches in flight (env/s) | \`writeBundles\` only (env/s) | D1 round trips / batch | shard calls / batch | R2 objects / batch |
|---|---|---|---|---|---|---|---|---|---|---|
${results.map((r) => `| ${r.name} | ${r.batches} × ${fmt(r.size)} | **${fmt(r.rate.consumer)}** | ${r.rounds.map(fmt).join(", ")} | ${fmt(r.rate.plain)} | ${fmt(r.rate.floor)} | ${fmt(r.rate.concurrent)} | ${fmt(r.rate.writer)} | ${+r.d1Trips.toFixed(2)} | ${+r.shardCalls.toFixed(2)} | ${+r.objects.toFixed(2)} |`).join("\n")}

| batch (CPU ms per batch of the Worker's workerd process: Worker + local D1, R2 and shards; medians) | consumer, stores uncounted | rounds | consumer, stores counted and timed | floor: the same store calls alone | rounds | floor: R2 put only | floor: ledger only | consumer (uncounted) − floor | diagnostic: consumer, log lines dropped | consumer with no storage | ${CONCURRENCY} batches in flight |${ledger === "sharded" ? " floor, stubs made per batch | the shard RPCs alone, to shards that do no work |" : ""} wrangler's proxy workerd: consumer / floor | all workerd: consumer |
|---|---|---|---|---|---|---|---|---|---|---|---|${ledger === "sharded" ? "---|---|" : ""}---|---|
${results.map((r) => `| ${r.name} | **${ms2(r.ms.plainCpu)}** | ${r.cpuRounds.map(ms2).join(", ")} | ${ms2(r.ms.cpu)} | **${ms2(r.ms.floorCpu)}** | ${r.floorCpuRounds.map(ms2).join(", ")} | ${ms2(r.ms.floorPutCpu)} | ${ms2(r.ms.floorLedgerCpu)} | ${ms2(r.ms.plainCpu - r.ms.floorCpu)} | ${ms2(r.ms.quietCpu)} | ${ms2(r.ms.noneCpu)} | ${ms2(r.ms.concurrentCpu)} |${ledger === "sharded" ? ` ${ms2(r.ms.floorStubsCpu)} | ${ms2(r.ms.floorEchoCpu)} |` : ""} ${ms2(r.ms.plainProxy)} / ${ms2(r.ms.floorProxy)} | ${ms2(r.ms.plainAll)} |`).join("\n")}

| batch (ms per batch, medians) | workerd CPU (Worker + local stores) | from outside | inside the Worker | waiting on D1 (read + write) | waiting on ledger shards | waiting on R2 | JS (the rest) | JS with no storage | of which gzip |
|---|---|---|---|---|---|---|---|---|---|
${results.map((r) => `| ${r.name} | ${ms2(r.ms.cpu)} | ${ms2(r.ms.outside)} | ${ms2(r.ms.inside)} | ${ms2(r.ms.d1)}${Number.isNaN(r.ms.d1Read) ? "" : ` (${ms2(r.ms.d1Read)} + ${ms2(r.ms.d1Write)})`} | ${ms2(r.ms.shards)} | ${ms2(r.ms.r2)} | ${ms2(r.ms.js)} | ${ms2(r.ms.none)} | ${ms2(r.ms.gzip)} |`).join("\n")}

At 100 × 1 the Worker's own JS is ${ms2(results[0]?.ms.js ?? Number.NaN)} ms of the ${ms2(results[0]?.ms.inside ?? Number.NaN)} ms a batch takes inside the Worker; the rest is waiting on the local stores.${profile ? `\n\n${profileText(profile.batches, profile.plain, "against the local stores")}\n\n${profileText(profile.batches, profile.none, "with no storage (stores that answer at once)")}` : ""}`,
  )
  .join("\n\n");

const text = `
A queue consumer invocation as the platform makes it: \`processIngestBatch\` (src/queue-consumers/ingest-consumer.ts)
over a MessageBatch of producer-encoded messages (a webhook's one-envelope bundle as JSON, parsed at delivery inside
the timing; a bundle of 100 envelopes gzip'd, as \`encoded()\` sends it): resolve the messages, dedupe read, gzip, one
R2 put, one ledger write, ackAll. Envelopes of ~430 B (~230 B payloads), all fresh. Local D1 and R2 in one
\`wrangler dev\` (bench/workers/raw-writer-routes.ts), timed from outside the Worker, and split inside it (locally the
clock moves while JS runs): the time spent waiting on each store, the rest is JS. "JS with no storage" runs the same
batches with D1 and R2 answering at once; "JS (the rest)" is the time no store call is in flight (the sharded write
sends D1's rows beside the shards', so those two waits overlap). "${CONCURRENCY} batches in flight" runs ${CONCURRENCY} invocations at once, as Queues does
with max_concurrency; it is not the target's measure. ${ROUNDS} rounds, medians.${Object.keys(extra).length ? ` Vars: ${JSON.stringify(extra)}.` : ""}
Load average (1 min) before/after: ${loadBefore.toFixed(1)}/${loadAfter.toFixed(1)} on 2 cores shared with other work.

${tables}

Target (issue #19): ≥ 25,000 envelopes/s at 100 messages × 1 envelope, one R2 object and at most two ledger round
trips per batch; 100 × 100 not below the Foundation run (53,455 env/s for \`writeBundles\` only).
`;
// BENCH_SECTION=0: print only (exploratory runs leave bench/RESULTS.md alone).
if (process.env.BENCH_SECTION !== "0") writeSection(process.env.BENCH_SECTION ?? "Raw writer", text);
console.log(text);
