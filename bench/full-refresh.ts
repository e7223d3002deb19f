/**
 * Full refresh of a 1,000,000-row table by the sidecar (`COPY … TO STDOUT` → snapshot parts →
 * signed deliveries to a local counting sink that answers 200), beside the baseline in the same
 * run: `COPY … TO STDOUT | gzip > /dev/null` on the same table with psql.
 * Run: npx tsx bench/full-refresh.ts   (writes the "## Full refresh (database)" section)
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { PgCluster } from "../sidecar/test/helpers/pg-cluster";
import { TEST_SECRET } from "../sidecar/test/helpers/webhook-sink";
import { countingSink } from "./lib/counting-sink";
import { writeSection } from "./lib/results.mjs";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);

const RUNS = Number(process.env.BENCH_ROUNDS ?? 5);

interface RefreshRun {
  seconds: number;
  whole: number;
  cpuMs: number;
  peakRss: number;
  parts: number;
}

/** The baseline: COPY to stdout, gzip'd, through a shell pipe; returns seconds. */
function copyGzip(port: number): number {
  const psql = "/usr/lib/postgresql/15/bin/psql";
  const started = performance.now();
  const copy = spawnSync(
    "bash",
    [
      "-c",
      `${psql} -h 127.0.0.1 -p ${port} -U postgres -d postgres -c "COPY (SELECT * FROM public.accounts) TO STDOUT" | gzip -1 > /dev/null`,
    ],
    { encoding: "utf8" },
  );
  if (copy.status !== 0) throw new Error(`COPY | gzip failed: ${copy.stderr}`);
  return (performance.now() - started) / 1000;
}

/** The sidecar's full refresh as operators run it (`db-pull refresh`, its own process), into a local counting sink. */
async function sidecarRefresh(cluster: PgCluster): Promise<RefreshRun> {
  const sink = await countingSink();
  const dir = mkdtempSync(path.join(tmpdir(), "dock-refresh-bench-"));
  const log = path.join(dir, "refresh.log");
  const s0 = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "sidecar/src/db-pull.ts", "refresh", "--table", "public.accounts"], {
    cwd: path.resolve(import.meta.dirname, ".."),
    env: { PATH: process.env.PATH ?? "", ...cluster.env, WORKER_URL: sink.url, CDC_INGEST_SECRET: TEST_SECRET, CDC_SOURCE: "app_db" },
    stdio: ["ignore", openSync(log, "w"), "inherit"],
  });
  let cpuMs = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      cpuMs = (Number(stat[11]) + Number(stat[12])) * 10;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      if (hwm) peakRss = Math.max(peakRss, Number(hwm[1]) / 1024);
    } catch {
      // exited between samples
    }
  }, 20);
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  clearInterval(sampler);
  const whole = (performance.now() - s0) / 1000;
  sink.close();
  const done = readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; ms?: number; records?: number; parts?: number })
    .find((l) => l.event === "pull.refreshed");
  if (code !== 0 || !done) throw new Error(`db-pull refresh failed (exit ${code}): ${readFileSync(log, "utf8").slice(-2000)}`);
  if (sink.records() !== ROWS || done.records !== ROWS || sink.manifests() !== 1)
    throw new Error(`counted ${sink.records()} rows, ${sink.manifests()} manifests`);
  return { seconds: (done.ms as number) / 1000, whole, cpuMs, peakRss, parts: done.parts as number };
}

async function main() {
  const cluster = await PgCluster.start();
  try {
    await cluster.sql(
      `CREATE TABLE public.accounts (id bigint PRIMARY KEY, email text NOT NULL, plan text, balance numeric(12,2), created_at timestamptz NOT NULL, note text)`,
    );
    const t0 = performance.now();
    await cluster.sql(
      `INSERT INTO public.accounts SELECT g, 'user' || g || '@example.com', (ARRAY['free','pro','team'])[1 + g % 3], (g % 100000) / 100.0,
         timestamptz '2026-01-01' + (g || ' seconds')::interval, CASE WHEN g % 7 = 0 THEN NULL ELSE 'a note with "quotes", tabs\tand \\ backslashes' END
       FROM generate_series(1, ${ROWS}) g`,
    );
    await cluster.sql("VACUUM ANALYZE public.accounts");
    const generated = (performance.now() - t0) / 1000;

    // Three rounds, each the baseline then the sidecar, so both meet the same machine state.
    const rounds: { baseline: number; run: RefreshRun }[] = [];
    for (let i = 0; i < RUNS; i++) rounds.push({ baseline: copyGzip(cluster.port), run: await sidecarRefresh(cluster) });
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
    const baseline = median(rounds.map((r) => r.baseline));
    const sidecar = median(rounds.map((r) => r.run.seconds));
    const rate = ROWS / sidecar;
    const last = rounds[rounds.length - 1]?.run as RefreshRun;
    const text = `
A ${ROWS.toLocaleString("en")}-row table (6 columns: bigint, text, text, numeric, timestamptz, text with quotes, tabs and
backslashes, NULLs), generated in ${generated.toFixed(1)} s, read in ${RUNS} rounds of the same run (the baseline, then the sidecar);
the table shows the medians.

| what | time | rows/s | vs COPY \\| gzip |
|---|---|---|---|
| \`COPY (SELECT * FROM public.accounts) TO STDOUT \\| gzip -1 > /dev/null\` (psql, baseline) | ${baseline.toFixed(2)} s | ${Math.round(ROWS / baseline).toLocaleString("en")} | 1.00× |
| sidecar \`db-pull refresh\`: COPY text encoded into envelopes with \`_dock.id\` (on a worker thread), ≤110 KB snapshot parts, signed POSTs to a local sink answering 200, then the manifest | ${sidecar.toFixed(2)} s | **${Math.round(rate).toLocaleString("en")}** | ${(baseline / sidecar).toFixed(2)}× |

Sidecar rounds: ${rounds.map((r) => `${Math.round(ROWS / r.run.seconds).toLocaleString("en")} rows/s`).join(", ")}; baseline rounds: ${rounds.map((r) => `${Math.round(ROWS / r.baseline).toLocaleString("en")}`).join(", ")} rows/s.
The sidecar runs in its own process, as operators run it (\`node --import tsx sidecar/src/db-pull.ts refresh\`); its time is
the refresh as it logs it (\`pull.refreshed\`, from BEGIN to the manifest answered). In the last round the whole process,
with Node and tsx starting, took ${last.whole.toFixed(1)} s and ${(last.cpuMs / 1000).toFixed(1)} s of CPU (its threads together); peak RSS ${Math.round(last.peakRss)} MB.
The encoding thread's code is bundled once per change of its files (about 0.1 s, in a first round after a fresh install or an edit) and then read from \`node_modules/.cache/loading-dock/\`.
The counting sink runs in the benchmark's process on the same ${cpus().length} cores. ${last.parts} snapshot parts and one manifest per round.
Target: ≥ 300,000 rows/s — ${rate >= 300_000 ? "met" : "not met"}.
`;
    console.log(text);
    writeSection("Full refresh (database)", text);
  } finally {
    cluster.ctl(["stop", "-m", "fast", "-w"]);
  }
}

await main();
