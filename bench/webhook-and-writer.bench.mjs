#!/usr/bin/env node
// Foundation benchmarks: (1) the webhook path (verify + enqueue) against a bare Hono handler on the
// same machine in the same run, with autocannon. (The raw writer has its own: bench/raw-writer.bench.mjs.)
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

`;
  writeSection("Foundation: webhook path and raw writer", text);
  console.log(text);
} finally {
  await bench.stop();
  await dock.stop();
}
