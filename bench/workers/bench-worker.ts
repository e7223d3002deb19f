import { AsyncLocalStorage } from "node:async_hooks";
import { Hono } from "hono";
import { setLogSink } from "../../src/lib/log";
import { findSource } from "../../src/sources/registry";
import { handleWebhook } from "../../src/webhooks/route";
import { writerRoutes } from "./raw-writer-routes";

/** The sharded record ledger's Durable Object, for the raw-writer bench with RECORD_LEDGER=sharded. */
export { LedgerShard } from "../../src/ledger/ledger-shard";
/** A ledger shard that takes the same calls and does no work: the raw-writer bench's floor of the RPCs alone. */
export { EchoShard } from "./raw-writer-routes";

interface BenchEnv {
  DB: D1Database;
  RAW: R2Bucket;
  INGEST: Queue;
  STRIPE_WEBHOOK_SECRET: string;
}

const app = new Hono<{ Bindings: BenchEnv }>();

/** The baseline: a bare Hono handler. */
app.all("/bare", (c) => c.text("ok"));

/**
 * The platform's floor for "durable before 2xx": a bare handler that reads the body and does one
 * `INGEST.send` of those bytes before answering. No webhook route can beat it in the same workerd.
 */
app.post("/send-floor", async (c) => {
  await c.env.INGEST.send(new Uint8Array(await c.req.arrayBuffer()), { contentType: "bytes" });
  return c.text("ok");
});

/** The production webhook route, in the same workerd as the baseline (its queue has no consumer here). */
app.post("/webhooks/:source", (c) => handleWebhook(c.req.raw, c.env, c.req.param("source"), findSource));

/**
 * Diagnostic: the same route with its log lines dropped. Under `wrangler dev` every console.log goes
 * through the V8 inspector to wrangler's node process, which costs more CPU than the route itself;
 * in production a log line costs microseconds. This row shows how much of the gap that plumbing is.
 */
const quiet = new AsyncLocalStorage<boolean>();
setLogSink((line) => {
  if (!quiet.getStore()) console.log(line);
});
app.post("/webhooks-quiet/:source", (c) => quiet.run(true, () => handleWebhook(c.req.raw, c.env, c.req.param("source"), findSource)));

/** The raw-writer benchmark's routes (bench/raw-writer.bench.mjs). */
app.route("/", writerRoutes);

export default app;
