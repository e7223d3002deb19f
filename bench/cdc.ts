/**
 * CDC sidecar benchmark: one generated workload of 1,000,000 changes (700k inserts, 200k updates,
 * 100k deletes in 1,000-row transactions), decoded in the same run by
 *   1. pg_recvlogical with pgoutput, draining its slot to /dev/null (the baseline), and
 *   2. the sidecar (a child process) decoding, enveloping, signing and delivering to a local sink
 *      that answers 200 after counting records,
 * then a 700,000-row single transaction through the sidecar for peak RSS.
 * Run: npx tsx bench/cdc.ts   (writes the "## CDC sidecar" section of bench/RESULTS.md)
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { PgCluster } from "../sidecar/test/helpers/pg-cluster";
import { SidecarProcess } from "../sidecar/test/helpers/sidecar-process";
import { TEST_SECRET } from "../sidecar/test/helpers/webhook-sink";
import { benchSidecarEnv, CDC_CHANGES, makeCdcWorkload, pgRecvlogical } from "./lib/cdc-workload";
import { countingSink } from "./lib/counting-sink";
import { writeSection } from "./lib/results.mjs";

/** user + system CPU of a process so far, from /proc (load on the machine does not inflate it). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number, onTick?: () => void): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    onTick?.();
    if (Date.now() > until) throw new Error("benchmark timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const cluster = await PgCluster.start({ extraConf: "logical_decoding_work_mem = '64MB'\nsynchronous_commit = off" });
  try {
    const { endLsn, ms: genMs } = await makeCdcWorkload(cluster, ["recv", "recv_after", "dock"]);
    const changes = CDC_CHANGES;

    // 1. pg_recvlogical baseline (run again after the sidecar: the first reader of fresh WAL may pay for it).
    const recvMs = pgRecvlogical(cluster, "recv", endLsn);

    // 2. The sidecar.
    const sink = await countingSink();
    const dir = mkdtempSync(path.join(tmpdir(), "dock-bench-"));
    const env = benchSidecarEnv(cluster, sink.url, TEST_SECRET, path.join(dir, "state.json"));
    const log = path.join(dir, "sidecar.log");
    const proc = new SidecarProcess(env, log);
    await waitUntil(() => existsSync(log) && readFileSync(log, "utf8").includes('"cdc.streaming"'), 60_000);
    const s0 = Date.now();
    const cpu0 = cpuMs(proc.child.pid as number);
    let peak = 0;
    await waitUntil(
      () => sink.records() >= changes + 1,
      600_000,
      () => (peak = Math.max(peak, proc.peakRss())),
    );
    const sideMs = Date.now() - s0;
    const sideCpuMs = cpuMs(proc.child.pid as number) - cpu0;
    peak = Math.max(peak, proc.peakRss());
    await proc.terminate();
    const recvAfterMs = pgRecvlogical(cluster, "recv_after", endLsn);

    // 3. One 700,000-row transaction, for peak memory.
    const big = await cluster.client();
    await big.query("TRUNCATE bench");
    await big.end();
    const before = sink.records();
    const proc2 = new SidecarProcess(env, log);
    const big2 = await cluster.client();
    const b0 = Date.now();
    await big2.query("INSERT INTO bench (id, v, n) SELECT g, md5(g::text), g FROM generate_series(1, 700000) g");
    await big2.end();
    let peakBig = 0;
    await waitUntil(
      () => sink.records() >= before + 700_000,
      600_000,
      () => (peakBig = Math.max(peakBig, proc2.peakRss())),
    );
    const bigMs = Date.now() - b0;
    peakBig = Math.max(peakBig, proc2.peakRss());
    await proc2.terminate();
    sink.close();

    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
    const mb = (b: number) => (b / 1048576).toFixed(0);
    const fastestRecv = Math.min(recvMs, recvAfterMs);
    const ratio = fastestRecv / sideMs;
    const section = [
      `PostgreSQL 15. Workload: ${changes.toLocaleString("en")} changes (700k inserts, 200k updates, 100k deletes) in 1,000-row transactions, generated in ${(genMs / 1000).toFixed(1)} s, decoded three times from three slots in the same run: pg_recvlogical, the sidecar, pg_recvlogical again.`,
      "",
      "| what | time | changes/s | vs pg_recvlogical | peak RSS |",
      "|---|---|---|---|---|",
      `| pg_recvlogical, pgoutput → /dev/null (baseline, before the sidecar) | ${(recvMs / 1000).toFixed(1)} s | ${rate(changes, recvMs).toLocaleString("en")} | ${(fastestRecv / recvMs).toFixed(2)}× | – |`,
      `| pg_recvlogical, pgoutput → /dev/null (baseline, after the sidecar) | ${(recvAfterMs / 1000).toFixed(1)} s | ${rate(changes, recvAfterMs).toLocaleString("en")} | ${(fastestRecv / recvAfterMs).toFixed(2)}× | – |`,
      `| sidecar: decode + envelope + _dock.id + signed POST to a local counting sink | ${(sideMs / 1000).toFixed(1)} s (CPU ${(sideCpuMs / 1000).toFixed(1)} s) | ${rate(changes, sideMs).toLocaleString("en")} (${rate(changes, sideCpuMs).toLocaleString("en")} per CPU-second) | **${ratio.toFixed(2)}×** | ${mb(peak)} MB |`,
      `| sidecar: one 700,000-row transaction (insert → all delivered) | ${(bigMs / 1000).toFixed(1)} s | ${rate(700_000, bigMs).toLocaleString("en")} | – | ${mb(peakBig)} MB |`,
      "",
      "The sidecar runs as `node --import tsx sidecar/src/main.ts` with default batch settings (5,000 records / 4 MB, 4 in flight); the sink",
      "counts records and answers 200 without verifying signatures. Peak RSS is VmHWM of the sidecar process (tsx's loader alone is ~100 MB).",
      '"vs pg_recvlogical" divides by the faster of the two baseline runs. The sidecar\'s CPU is user + system time of its process;',
      `Postgres's walsender decodes for both readers alike. Load average (1 min) after the run: ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores.`,
      `Targets: ≥ 1.0× pg_recvlogical — ${ratio >= 1 ? "met" : "not met"}; peak RSS ≤ 256 MB — ${Math.max(peak, peakBig) <= 256 * 1048576 ? "met" : "not met"}.`,
      "End to end into the raw zone through `wrangler dev`: `bench/cdc-end-to-end.ts` (its own section).",
      "",
    ].join("\n");
    writeSection("CDC sidecar", section);
    console.log(section);
  } finally {
    cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
