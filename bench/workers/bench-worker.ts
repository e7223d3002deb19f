import { Hono } from "hono";
import { findSource } from "../../src/sources/registry";
import { handleWebhook } from "../../src/webhooks/route";
import { writerRoutes } from "./raw-writer-routes";

/** The sharded record ledger's Durable Object, for the raw-writer bench with RECORD_LEDGER=sharded. */
export { LedgerShard } from "../../src/ledger/ledger-shard";

interface BenchEnv {
  DB: D1Database;
  RAW: R2Bucket;
  INGEST: Queue;
  STRIPE_WEBHOOK_SECRET: string;
}

const app = new Hono<{ Bindings: BenchEnv }>();

/** The baseline: a bare Hono handler. */
app.all("/bare", (c) => c.text("ok"));

/** The production webhook route, in the same workerd as the baseline (its queue has no consumer here). */
app.post("/webhooks/:source", (c) => handleWebhook(c.req.raw, c.env, c.req.param("source"), findSource));

/** The raw-writer benchmark's routes (bench/raw-writer.bench.mjs). */
app.route("/", writerRoutes);

export default app;
