/**
 * Full refresh of a 1,000,000-row table by the sidecar (`COPY … TO STDOUT` → snapshot parts →
 * signed deliveries to a local counting sink that answers 200), beside the baseline in the same
 * run: `COPY … TO STDOUT | gzip > /dev/null` on the same table with psql.
 * Run: npx tsx bench/full-refresh.ts   (writes the "## Full refresh (database)" section)
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import pg from "pg";
import { SignedSender } from "../sidecar/src/delivery/signed-sender";
import { fullRefresh } from "../sidecar/src/pull/full-refresh";
import { PgCluster } from "../sidecar/test/helpers/pg-cluster";
import { TEST_SECRET } from "../sidecar/test/helpers/webhook-sink";
import { writeSection } from "./lib/results.mjs";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);

async function countingSink() {
  let records = 0;
  let manifests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("latin1");
      for (let i = body.indexOf('{"id":"'); i >= 0; i = body.indexOf('{"id":"', i + 7)) records++;
      if (body.includes('"manifests":[')) manifests++;
      res.writeHead(200).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    records: () => records,
    manifests: () => manifests,
    close: () => server.close(),
  };
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

    // Baseline: COPY to stdout, gzip'd, through a shell pipe.
    const psql = "/usr/lib/postgresql/15/bin/psql";
    const b0 = performance.now();
    const copy = spawnSync(
      "bash",
      [
        "-c",
        `${psql} -h 127.0.0.1 -p ${cluster.port} -U postgres -d postgres -c "COPY (SELECT * FROM public.accounts ORDER BY id) TO STDOUT" | gzip -1 > /dev/null`,
      ],
      {
        encoding: "utf8",
      },
    );
    if (copy.status !== 0) throw new Error(`COPY | gzip failed: ${copy.stderr}`);
    const baseline = (performance.now() - b0) / 1000;

    // The sidecar's full refresh, delivering to a local sink as it would to the Worker.
    const sink = await countingSink();
    const sender = new SignedSender({ url: `${sink.url}/ingest/cdc`, secret: TEST_SECRET });
    const db = new pg.Client({ host: "127.0.0.1", port: cluster.port, user: "postgres", database: "postgres" });
    await db.connect();
    const cpu0 = process.cpuUsage();
    const s0 = performance.now();
    const out = await fullRefresh(db, {
      source: "app_db",
      table: { schema: "public", name: "accounts" },
      runId: "bench-refresh",
      batchRecords: 5000,
      deliver: (id, body) => sender.send(id, body),
    });
    const sidecar = (performance.now() - s0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await db.end();
    sender.abort();
    sink.close();
    if (sink.records() !== ROWS || out.records !== ROWS || sink.manifests() !== 1)
      throw new Error(`counted ${sink.records()} rows, ${sink.manifests()} manifests`);

    const rss = process.resourceUsage().maxRSS / 1024;
    const text = `
A ${ROWS.toLocaleString("en")}-row table (6 columns: bigint, text, text, numeric, timestamptz, text with quotes, tabs and
backslashes, NULLs), generated in ${generated.toFixed(1)} s, read in the same run by:

| what | time | rows/s | vs COPY \\| gzip |
|---|---|---|---|
| \`COPY (SELECT * … ORDER BY id) TO STDOUT \\| gzip -1 > /dev/null\` (psql, baseline) | ${baseline.toFixed(1)} s | ${Math.round(ROWS / baseline).toLocaleString("en")} | 1.00× |
| sidecar \`fullRefresh\`: COPY text parsed, envelopes with \`_dock.id\`, ≤110 KB snapshot parts, signed POSTs to a local sink answering 200, then the manifest | ${sidecar.toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s) | ${Math.round(ROWS / sidecar).toLocaleString("en")} | ${(baseline / sidecar).toFixed(2)}× |

${out.parts} snapshot parts and one manifest delivered; peak RSS of the benchmark process (sidecar code in-process) ${Math.round(rss)} MB.
Target: ≥ 300,000 rows/s.
`;
    console.log(text);
    writeSection("Full refresh (database)", text);
  } finally {
    cluster.ctl(["stop", "-m", "fast", "-w"]);
  }
}

await main();
