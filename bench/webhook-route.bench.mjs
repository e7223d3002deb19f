#!/usr/bin/env node
// Webhook route benchmark: `POST /webhooks/stripe` (read body, verify, extract, envelope, INGEST.send, 2xx)
// against two baselines in the SAME `wrangler dev`, same run: a bare Hono handler answering 200, and a
// bare handler that does one INGEST.send of the same bytes (the floor for "durable before 2xx").
// Rounds interleave the three handlers; ratios are taken within a round and their median reported.
// CPU ms per request comes from /proc (the Worker's workerd process), and a CPU profile taken in
// workerd through the inspector shows where the route's time goes.
//   BENCH_SECONDS (10) per row, BENCH_ROUNDS (3), BENCH_CONNECTIONS (10), BENCH_PROFILE_SECONDS (6), BENCH_FULL=0 skips the npm-start Worker row,
//   BENCH_DRY=1 prints without writing RESULTS.md.
import { loadavg } from "node:os";
import { execSync } from "node:child_process";
import autocannon from "autocannon";
import Stripe from "stripe";
import { writeSection } from "./lib/results.mjs";
import { startWranglerDev } from "./lib/wrangler-dev.mjs";
import { measureCpu, workerdProcesses } from "./lib/workerd-cpu.mjs";
import { profileWhile, summaryTables } from "./lib/workerd-profile.mjs";

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PROFILE_SECONDS = Number(process.env.BENCH_PROFILE_SECONDS ?? 6);
const FULL = process.env.BENCH_FULL !== "0";
const SECRET = "whsec_bench_secret";

function cannon(opts) {
  return new Promise((resolve, reject) =>
    autocannon({ duration: DURATION, connections: CONNECTIONS, ...opts }, (err, r) => (err ? reject(err) : resolve(r))),
  );
}
/** 2xx answers per second: wrangler's proxy answers some bare POSTs 503 when the handler leaves the body unread. */
const ok = (r) => (r.requests.total - r.non2xx) / r.duration;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cpuModel = () => {
  try {
    return (
      execSync("lscpu", { encoding: "utf8" })
        .match(/Model name:\s*(.+)/)?.[1]
        ?.trim() ?? "unknown"
    );
  } catch {
    return "unknown";
  }
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");

const HANDLERS = [
  { name: "bare", label: "bare Hono 200", path: "/bare" },
  { name: "floor", label: "send floor (read body + one INGEST.send)", path: "/send-floor" },
  { name: "hook", label: "webhook route", path: "/webhooks/stripe" },
  { name: "quiet", label: "diagnostic: webhook route, log lines dropped", path: "/webhooks-quiet/stripe" },
];

const loadBefore = load();
const bench = await startWranglerDev({ config: "bench/workers/wrangler.toml", health: "/bare", freeze: true });
const dock = FULL ? await startWranglerDev({ vars: { STRIPE_WEBHOOK_SECRET: SECRET, ADMIN_TOKEN: "bench" }, freeze: true }) : null;
try {
  const port = Number(new URL(bench.url).port);
  const body = JSON.stringify({
    id: "evt_bench",
    object: "event",
    type: "charge.succeeded",
    data: { object: { id: "ch_bench", object: "charge", amount: 2000 } },
  });
  // Fresh signature per run: the route refuses timestamps older than 300 s, and a run takes longer.
  const post = (url) => ({
    url,
    method: "POST",
    body,
    headers: {
      "stripe-signature": new Stripe("sk_test_x").webhooks.generateTestHeaderString({ payload: body, secret: SECRET }),
      "content-type": "application/json",
    },
  });
  const run = async (h, connections, duration = DURATION) => {
    // Looked up per row: wrangler may restart the Worker's workerd after it first answers.
    const { result, cpu } = await measureCpu(workerdProcesses(bench.pid, port), () =>
      cannon({ ...post(`${bench.url}${h.path}`), connections, duration }),
    );
    const requests = result.requests.total;
    return {
      r: result,
      cpuWorker: cpu.worker / requests,
      cpuProxy: cpu.proxy / requests,
      cpuNode: cpu.wrangler / requests,
      cpuAll: (cpu.worker + cpu.proxy + cpu.wrangler) / requests,
    };
  };
  for (const h of HANDLERS) await run(h, CONNECTIONS, 2);

  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const connections of [1, CONNECTIONS]) {
      const row = { round, connections };
      for (const h of HANDLERS) row[h.name] = await run(h, connections);
      rounds.push(row);
      console.log(
        `round ${round + 1} c=${connections}: ${HANDLERS.map((h) => `${h.name} ${Math.round(ok(row[h.name].r))}/s p99 ${row[h.name].r.latency.p99} ms cpu ${row[h.name].cpuWorker.toFixed(3)} ms`).join(", ")}`,
      );
    }
  }

  // One profile per handler at full concurrency, after the measured rounds (profiling slows the Worker).
  const profiles = {};
  for (const h of HANDLERS.filter((x) => x.name === "floor" || x.name === "hook")) {
    const { summary, driven } = await profileWhile(bench.inspectorPort, () =>
      cannon({ ...post(`${bench.url}${h.path}`), duration: PROFILE_SECONDS }),
    );
    profiles[h.name] = { summary, requests: driven.requests.total };
  }

  const full = [];
  if (dock) {
    await cannon({ ...post(`${dock.url}/webhooks/stripe`), duration: 2 });
    for (const connections of [1, CONNECTIONS])
      full.push({ connections, r: await cannon({ ...post(`${dock.url}/webhooks/stripe`), connections }) });
  }
  const loadAfter = load();

  const cell = (rows, h, f) => median(rows.map((row) => f(row[h])));
  const table = [];
  const ratios = [];
  for (const connections of [1, CONNECTIONS]) {
    const rows = rounds.filter((r) => r.connections === connections);
    for (const h of HANDLERS) {
      table.push(
        `| ${connections} | ${h.label} | ${Math.round(cell(rows, h.name, (x) => ok(x.r)))} | ${rows.map((r) => Math.round(ok(r[h.name].r))).join(", ")} | ${cell(rows, h.name, (x) => x.r.latency.p50)} | ${cell(rows, h.name, (x) => x.r.latency.p99)} | ${cell(rows, h.name, (x) => x.cpuWorker).toFixed(2)} | ${cell(rows, h.name, (x) => x.cpuProxy).toFixed(2)} | ${cell(rows, h.name, (x) => x.cpuNode).toFixed(2)} | ${cell(rows, h.name, (x) => x.cpuAll).toFixed(2)} | ${rows.reduce((n, r) => n + r[h.name].r.non2xx + r[h.name].r.errors, 0)} |`,
      );
    }
    const ratio = (a, b) => median(rows.map((r) => ok(r[a].r) / ok(r[b].r)));
    const vsBare = ratio("hook", "bare");
    const vsFloor = ratio("hook", "floor");
    const floorVsBare = ratio("floor", "bare");
    const quiet = { vsFloor: ratio("quiet", "floor"), vsBare: ratio("quiet", "bare") };
    // If the chain were CPU-bound, req/s would go as 1 / (CPU of all three processes per request).
    const cpuRatio = (a, b) => median(rows.map((r) => r[b].cpuAll / r[a].cpuAll));
    const byCpu = { vsFloor: cpuRatio("hook", "floor"), vsBare: cpuRatio("hook", "bare"), quietVsFloor: cpuRatio("quiet", "floor") };
    const cpuOver = (a, b) => median(rows.map((r) => r[a].cpuWorker - r[b].cpuWorker));
    const logCost = (k) => median(rows.map((r) => r.hook[k] - r.quiet[k]));
    const log = { all: logCost("cpuAll"), worker: logCost("cpuWorker"), proxy: logCost("cpuProxy"), node: logCost("cpuNode") };
    const quietOverFloor = median(rows.map((r) => r.quiet.cpuAll - r.floor.cpuAll));
    ratios.push({
      connections,
      log,
      quietOverFloor,
      vsBare,
      vsFloor,
      floorVsBare,
      quiet,
      byCpu,
      hookCpu: cell(rows, "hook", (x) => x.cpuWorker),
      overFloor: cpuOver("hook", "floor"),
      overBare: cpuOver("hook", "bare"),
    });
  }

  const profileRows = HANDLERS.filter((h) => profiles[h.name]).map((h) => {
    const p = profiles[h.name];
    const idle = p.summary.categories.find((c) => c.name === "(idle)")?.ms ?? 0;
    return `| ${h.label} | ${p.requests} | ${(((p.summary.totalMs - idle) * 1000) / p.requests).toFixed(0)} |`;
  });
  const verdict = (x, target) => (x >= target ? "met" : "**not met**");

  const text = `
\`POST /webhooks/stripe\` (read body, verify Stripe-Signature, extract, build the envelope, \`INGEST.send\`, answer 200)
against two baselines in the same \`wrangler dev\` (bench/workers: the production route; its queue has no consumer), same run:
a bare Hono handler answering 200, and a bare handler that reads the body and does one \`INGEST.send\` of those bytes
(the platform's floor for "durable before 2xx"). A ${body.length}-byte Stripe event. autocannon, ${DURATION} s per row,
${ROUNDS} rounds interleaving the three handlers; the table holds medians over the rounds, ratios are taken within
each round and their median given. Machine: ${cpuModel()}, 2 cores shared with other work; load average
(1/5/15 min) ${loadBefore} before, ${loadAfter} after.

CPU ms / request is Δ(utime + stime) of the Worker's workerd process (/proc) over the row divided by its requests:
the Worker's JS plus workerd's own HTTP and binding work (locally the queue broker runs in that process too).
Cloudflare bills the isolate's CPU time, which is below this; "webhook − floor" is the route's own share.
The dev port is fronted by wrangler's ProxyWorker (another workerd, "proxy CPU ms"), and wrangler's node process
prints a line per request and receives every console.log of the Worker through the V8 inspector: local costs,
absent in production. "all three" is their sum; the ratios "by CPU" compare it between handlers. req/s counts 2xx
answers only (wrangler's proxy answers a few bare POSTs 503 when the handler leaves the body unread).

| connections | handler | 2xx/s (median) | 2xx/s per round | p50 ms | p99 ms | Worker CPU ms / req | proxy CPU ms / req | wrangler node CPU ms / req | all three | non-2xx + errors |
|---|---|---|---|---|---|---|---|---|---|---|
${table.join("\n")}

${ratios
  .map(
    (r) =>
      `At ${r.connections} connection(s): webhook / send floor = **${r.vsFloor.toFixed(2)}×** (target ≥ 0.8: ${verdict(r.vsFloor, 0.8)}), webhook / bare 200 = **${r.vsBare.toFixed(2)}×** (target ≥ 0.6: ${verdict(r.vsBare, 0.6)}); floor / bare = ${r.floorVsBare.toFixed(2)}×. CPU per webhook ${r.hookCpu.toFixed(3)} ms (Worker's workerd process), ${r.overFloor.toFixed(3)} ms over the send floor, ${r.overBare.toFixed(3)} ms over the bare 200. By CPU of all three processes per request: webhook / floor ${r.byCpu.vsFloor.toFixed(2)}×, webhook / bare ${r.byCpu.vsBare.toFixed(2)}×. Diagnostic, log lines dropped: ${r.quiet.vsFloor.toFixed(2)}× the floor, ${r.quiet.vsBare.toFixed(2)}× the bare 200 (by CPU ${r.byCpu.quietVsFloor.toFixed(2)}× the floor). The route's one log line per webhook costs ${r.log.all.toFixed(2)} ms of CPU per request across the three processes (${r.log.worker.toFixed(2)} in the Worker's workerd, ${r.log.proxy.toFixed(2)} in the proxy, ${r.log.node.toFixed(2)} in wrangler's node); everything else the route does costs ${r.quietOverFloor.toFixed(2)} ms over the send floor.`,
  )
  .join("\n")}
${
  full.length
    ? `
For reference, \`npm start\`'s Worker (the whole app, its INGEST consumer writing R2 and D1 on the same cores), after the rounds:
${full.map((f) => `${f.connections} connection(s) ${Math.round(ok(f.r))} 2xx/s, p99 ${f.r.latency.p99} ms, ${f.r.non2xx + f.r.errors} non-2xx/errors`).join("; ")}.
`
    : ""
}
**Profile in workerd** (\`bench/lib/workerd-profile.mjs\`: V8 CPU profile over the inspector, ${PROFILE_SECONDS} s at ${CONNECTIONS} connections for
the floor and the webhook route, after the measured rounds; self time summed by function and by source file, mapped through the bundle's module comments).
Busy µs per request is the isolate thread's non-idle sampled time ((program) is workerd's own C++ on that thread: HTTP, bindings):

| handler | requests profiled | busy µs / request |
|---|---|---|
${profileRows.join("\n")}

The profiler itself slows the isolate (busy time per request under it is several times the CPU per request
measured without it), so read shares, not absolute µs. In the bench Worker every log line goes through its log sink
(the anonymous closure in bench-worker.ts that calls console.log): its self time is console.log's, which under
wrangler dev serialises the line for the inspector session wrangler keeps open.

Webhook route, where the isolate's time goes:

${summaryTables(profiles.hook.summary, { top: 15, perRequest: profiles.hook.requests })}

Send floor, for comparison:

${summaryTables(profiles.floor.summary, { top: 8, perRequest: profiles.floor.requests })}
`;
  if (process.env.BENCH_DRY !== "1") writeSection("Webhook route", text);
  console.log(text);
} finally {
  await bench.stop();
  await dock?.stop();
}
