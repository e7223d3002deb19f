#!/usr/bin/env node
// Foundation benchmarks: (1) the webhook path (verify + enqueue) against a bare Hono handler on the
// same machine in the same run, with autocannon; (2) the raw writer's envelopes/s in batches of 100.
import autocannon from "autocannon";
import Stripe from "stripe";
import { writeSection } from "./lib/results.mjs";
import { startWranglerDev } from "./lib/wrangler-dev.mjs";

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const SECRET = "whsec_bench_secret";

function cannon(opts) {
  return new Promise((resolve, reject) =>
    autocannon({ duration: DURATION, connections: CONNECTIONS, ...opts }, (err, r) => (err ? reject(err) : resolve(r))),
  );
}
const row = (name, r) =>
  `| ${name} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx} | ${r.errors} |`;

const bench = await startWranglerDev({ config: "bench/workers/wrangler.toml", health: "/bare" });
const dock = await startWranglerDev({ vars: { STRIPE_WEBHOOK_SECRET: SECRET, ADMIN_TOKEN: "bench" } });
try {
  const body = JSON.stringify({
    id: "evt_bench",
    object: "event",
    type: "charge.succeeded",
    data: { object: { id: "ch_bench", object: "charge", amount: 2000 } },
  });
  const signature = new Stripe("sk_test_x").webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
  const post = (url) => ({ url, method: "POST", body, headers: { "stripe-signature": signature, "content-type": "application/json" } });
  await cannon({ ...post(`${bench.url}/bare`), duration: 2 });
  await cannon({ ...post(`${bench.url}/webhooks/stripe`), duration: 2 });
  await cannon({ ...post(`${dock.url}/webhooks/stripe`), duration: 2 });
  const rows = [];
  for (const connections of [1, CONNECTIONS]) {
    const bare = await cannon({ ...post(`${bench.url}/bare`), connections });
    const hook = await cannon({ ...post(`${bench.url}/webhooks/stripe`), connections });
    const full = await cannon({ ...post(`${dock.url}/webhooks/stripe`), connections });
    rows.push({ connections, bare, hook, full });
  }

  const results = [];
  for (const [batches, size, perMessage] of [
    [30, 100, 1],
    [30, 100, 100],
    [6, 10_000, 100],
  ]) {
    await fetch(`${bench.url}/writer/prepare?batches=${batches}&size=${size}&per_message=${perMessage}`, { method: "POST" });
    const started = performance.now();
    const res = await (await fetch(`${bench.url}/writer/run`, { method: "POST" })).json();
    const ms = performance.now() - started;
    results.push({ size, perMessage, ...res, ms, perSecond: res.envelopes / (ms / 1000) });
  }

  const text = `
Webhook path: \`POST /webhooks/stripe\` (read body, verify Stripe-Signature, extract, build the envelope, \`INGEST.send\`,
answer 200) against a bare Hono handler answering 200 to the same POST. "same workerd" runs both in one \`wrangler dev\`
(bench/workers: the production route, its queue with no consumer); "full Worker" is \`npm start\`'s Worker, whose
INGEST consumer writes R2 and D1 on the same 2 cores while it is measured. autocannon, ${DURATION} s per row.

| connections | handler | req/s | p50 ms | p99 ms | non-2xx | errors |
|---|---|---|---|---|---|---|
${rows.flatMap((r) => [row(`${r.connections} | bare Hono 200`, r.bare), row(`${r.connections} | webhook, same workerd`, r.hook), row(`${r.connections} | webhook, full Worker + consumer`, r.full)]).join("\n")}

${rows.map((r) => `At ${r.connections} connection(s): webhook / bare = **${(r.hook.requests.average / r.bare.requests.average).toFixed(2)}×** in the same workerd, ${(r.full.requests.average / r.bare.requests.average).toFixed(2)}× for the full Worker; webhook p99 ${r.hook.latency.p99} ms (bare ${r.bare.latency.p99} ms).`).join("\n")}
Targets: ≥ 0.8× the bare handler, p99 ≤ 5 ms.

Raw writer: \`writeBundles\` (dedupe read, gzip, one R2 put, one D1 write batch) over batches of envelopes
(~230 B payloads) against local R2 and D1, timed from outside the Worker (\`bench/workers/bench-worker.ts\`).
A webhook message holds one envelope; a poll page or CDC message holds about a hundred.

| batch | envelopes | envelopes/s | D1 round trips / batch | R2 objects / batch |
|---|---|---|---|---|
${results.map((r) => `| ${r.size / r.perMessage} messages × ${r.perMessage} envelope(s) | ${r.envelopes} | ${Math.round(r.perSecond)} | ${r.d1_round_trips_per_batch} | ${r.objects_per_batch} |`).join("\n")}

Target: ≥ 25,000 envelopes/s, one R2 object and at most two D1 round trips per batch.
`;
  writeSection("Foundation: webhook path and raw writer", text);
  console.log(text);
} finally {
  await bench.stop();
  await dock.stop();
}
