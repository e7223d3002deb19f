import { Hono } from "hono";
import type { RecordBundle } from "../../src/envelope/bundle";
import { dockId } from "../../src/envelope/dock-id";
import { envelopeLine } from "../../src/envelope/envelope";
import { writeBundles } from "../../src/queue-consumers/raw-writer";
import { findSource } from "../../src/sources/registry";
import { handleWebhook } from "../../src/webhooks/route";

interface BenchEnv {
  DB: D1Database;
  RAW: R2Bucket;
  INGEST: Queue;
  STRIPE_WEBHOOK_SECRET: string;
}

/** Counts D1 round trips: each batch() is one, and each statement run outside a batch is one. */
function countingD1(db: D1Database, counter: { trips: number }): D1Database {
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "bind") return (...args: unknown[]) => wrapStatement(value.apply(target, args));
        if (["all", "run", "first", "raw"].includes(String(prop)))
          return (...args: unknown[]) => {
            counter.trips++;
            return value.apply(target, args);
          };
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "prepare") return (sql: string) => wrapStatement(value.call(target, sql));
      if (prop === "batch")
        return (stmts: D1PreparedStatement[]) => {
          counter.trips++;
          // unwrap proxies: D1 wants its own statement objects
          return value.call(target, stmts);
        };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function makeBundle(run: string, batch: number, size: number): Promise<RecordBundle> {
  const records = [];
  for (let i = 0; i < size; i++) {
    const key = `${run}-${batch}-${i}`;
    const id = await dockId("bench", "events", key, "v1");
    const payload = `{"id":"${key}","object":"event","amount":${1000 + i},"customer":{"id":"cus_${i}","email":"user${i}@example.com"},"metadata":{"order":"ord_${batch}_${i}","note":"a typical small vendor event payload"}}`;
    records.push({
      id,
      line: envelopeLine(
        {
          id,
          source: "bench",
          stream: "events",
          pattern: "webhook",
          key,
          version: "v1",
          op: "event",
          received_at: new Date().toISOString(),
          run_id: run,
        },
        { json: payload },
      ),
      receipt: `evt_${key}`,
    });
  }
  return { kind: "bundle", v: 1, source: "bench", stream: "events", pattern: "webhook", received_at: new Date().toISOString(), records };
}

const app = new Hono<{ Bindings: BenchEnv }>();

/** The baseline: a bare Hono handler. */
app.all("/bare", (c) => c.text("ok"));

/** The production webhook route, in the same workerd as the baseline (its queue has no consumer here). */
app.post("/webhooks/:source", (c) => handleWebhook(c.req.raw, c.env, c.req.param("source"), findSource));

let prepared: RecordBundle[][] = [];

/** Builds `batches` batches of `size` envelopes (`per_message` records per message) and keeps them for /writer/run. */
app.post("/writer/prepare", async (c) => {
  const batches = Number(c.req.query("batches") ?? "20");
  const size = Number(c.req.query("size") ?? "100");
  const perMessage = Number(c.req.query("per_message") ?? "1");
  const run = crypto.randomUUID().slice(0, 8);
  prepared = [];
  for (let b = 0; b < batches; b++) {
    const bundle = await makeBundle(run, b, size);
    const messages: RecordBundle[] = [];
    for (let i = 0; i < size; i += perMessage) messages.push({ ...bundle, records: bundle.records.slice(i, i + perMessage) });
    prepared.push(messages);
  }
  return c.json({ batches, envelopes: batches * size });
});

/** Runs the raw writer over the prepared batches; the client times this request from outside. */
app.post("/writer/run", async (c) => {
  const counter = { trips: 0 };
  const env = { DB: countingD1(c.env.DB, counter), RAW: c.env.RAW };
  let objects = 0;
  let envelopes = 0;
  for (const messages of prepared) {
    const summary = await writeBundles(env, messages, { retentionHours: 96 });
    objects += summary.objects.length;
    envelopes += summary.written;
  }
  return c.json({
    envelopes,
    batches: prepared.length,
    d1_round_trips_per_batch: counter.trips / prepared.length,
    objects_per_batch: objects / prepared.length,
  });
});

export default app;
