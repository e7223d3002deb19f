import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";
import type { RecordBundle } from "../../src/envelope/bundle";
import { dockId } from "../../src/envelope/dock-id";
import { envelopeLine } from "../../src/envelope/envelope";
import { encoded } from "../../src/ingest/enqueue";
import { processIngestBatch } from "../../src/queue-consumers/ingest-consumer";
import { gzip } from "../../src/queue-consumers/gzip";
import { writeBundles } from "../../src/queue-consumers/raw-writer";
import { setLogSink } from "../../src/lib/log";

/**
 * The raw-writer benchmark's harness: consumer invocations (`processIngestBatch` over a MessageBatch
 * of queue messages as producers encode them) driven inside workerd against local D1 and R2, and
 * the same batch's parts on their own, so the bench can say where a batch's time goes. The client
 * times every request from outside: inside workerd the clock does not move while JS runs.
 */
export interface WriterBenchEnv {
  DB: D1Database;
  RAW: R2Bucket;
  [binding: string]: unknown;
}

/**
 * Round trips and the wall time spent waiting on each store. Locally (wrangler dev) the clock moves
 * while JS runs, so a batch's time splits in place: I/O waits per store, the rest is the Worker's JS.
 * Parallel calls to one store (shards) count once: the time at least one of them is in flight.
 */
class Counts {
  d1Trips = 0;
  r2Puts = 0;
  r2Gets = 0;
  doCalls = 0;
  /** Wall ms with at least one call to that store in flight; `io`: to any store. */
  readonly ms = { d1: 0, r2: 0, shards: 0, io: 0 };
  /** Each D1 call's own wait, in order: with one batch at a time and two trips a batch, read, write, read, … */
  readonly d1Calls: number[] = [];
  private readonly open = { d1: 0, r2: 0, shards: 0, io: 0 };
  private readonly since = { d1: 0, r2: 0, shards: 0, io: 0 };

  time<T>(store: "d1" | "r2" | "shards", call: () => Promise<T>): Promise<T> {
    for (const k of [store, "io"] as const) if (this.open[k]++ === 0) this.since[k] = Date.now();
    const done = () => {
      for (const k of [store, "io"] as const) if (--this.open[k] === 0) this.ms[k] += Date.now() - this.since[k];
    };
    return call().finally(done);
  }

  timeD1<T>(call: () => Promise<T>): Promise<T> {
    const started = Date.now();
    return this.time("d1", call).finally(() => this.d1Calls.push(Date.now() - started));
  }
}

/** Counts and times D1 round trips: each batch() is one, and each statement run outside a batch is one. */
function countingD1(db: D1Database, counts: Counts): D1Database {
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "bind") return (...args: unknown[]) => wrapStatement(value.apply(target, args));
        if (["all", "run", "first", "raw"].includes(String(prop)))
          return (...args: unknown[]) => {
            counts.d1Trips++;
            return counts.timeD1(() => value.apply(target, args));
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
          counts.d1Trips++;
          return counts.timeD1(() => value.call(target, stmts));
        };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function countingR2(bucket: R2Bucket, counts: Counts): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "put")
        return (...args: unknown[]) => {
          counts.r2Puts++;
          return counts.time("r2", () => value.apply(target, args));
        };
      if (prop === "get")
        return (...args: unknown[]) => {
          counts.r2Gets++;
          return counts.time("r2", () => value.apply(target, args));
        };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Counts and times the ledger shards' RPCs (a Durable Object namespace's stubs' methods). */
function countingShards(ns: DurableObjectNamespace, counts: Counts): DurableObjectNamespace {
  const wrapStub = (stub: object) =>
    new Proxy(stub, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function" || prop === "then") return value;
        return (...args: unknown[]) => {
          counts.doCalls++;
          // Reflect.apply: on an RPC stub, `value.apply` would be a remote property of that name.
          return counts.time("shards", () => Promise.resolve(Reflect.apply(value, target, args)));
        };
      },
    });
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "get" || prop === "getByName") return (...args: unknown[]) => wrapStub(Reflect.apply(value, target, args));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A D1 that answers every batch at once with no rows: the writer's own JS with no storage behind it. */
const instantD1 = {
  prepare() {
    const stmt = { bind: () => stmt, all: async () => ({ results: [] }), run: async () => ({ results: [] }), first: async () => null };
    return stmt;
  },
  async batch(stmts: unknown[]) {
    return stmts.map(() => ({ results: [], success: true, meta: {} }));
  },
} as unknown as D1Database;

/** An R2 that keeps nothing and answers at once (the body is read, as a real put reads it). */
const instantR2 = {
  async put(key: string, body: Uint8Array | string) {
    return { key, size: typeof body === "string" ? body.length : body.byteLength };
  },
  async get() {
    return null;
  },
} as unknown as R2Bucket;

/** A queue message as the consumer gets it: JSON bodies parsed at delivery (done per run, in the timing), bytes as sent. */
interface PreparedMessage {
  json?: string;
  bytes?: ArrayBuffer;
}

let preparedBatches: PreparedMessage[][] = [];
/** The same batches as bundles, for the writer-only measurement (what the Foundation bench timed). */
let preparedBundles: RecordBundle[][] = [];

async function makeBundle(run: string, batch: number, size: number): Promise<RecordBundle> {
  const records = [];
  const receivedAt = new Date().toISOString();
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
          received_at: receivedAt,
          run_id: run,
        },
        { json: payload },
      ),
      receipt: `evt_${key}`,
    });
  }
  return { kind: "bundle", v: 1, source: "bench", stream: "events", pattern: "webhook", received_at: receivedAt, records };
}

let messageCounter = 0;
function deliver(prepared: PreparedMessage[]): MessageBatch<unknown> {
  const messages = prepared.map(
    (m): Message<unknown> => ({
      id: `m${++messageCounter}`,
      timestamp: new Date(),
      attempts: 1,
      body: m.json !== undefined ? JSON.parse(m.json) : m.bytes,
      ack() {},
      retry() {},
    }),
  );
  let acked = false;
  return {
    queue: "loading-dock-bench-ingest",
    messages,
    ackAll() {
      acked = true;
    },
    retryAll() {
      throw new Error("the bench batch failed and was retried: see the wrangler log");
    },
    get acked() {
      return acked;
    },
  } as unknown as MessageBatch<unknown>;
}

/** Runs `batches` with at most `concurrency` consumer invocations in flight, each its own batch. */
async function inFlight<T>(items: T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

/** Ledger shards that answer at once: nothing seen, nothing held (the sharded ledger's client with no storage). */
const instantShards = {
  idFromName: (name: string) => name,
  get: () => ({
    read: async () => ({ seen: [], held: [] }),
    write: async () => ({ dedupe: 0, marks: 0, receipts: 0 }),
  }),
} as unknown as DurableObjectNamespace;

/**
 * The env the production consumer sees, its stores counted and timed, or all replaced by instant
 * ones (`none`), or as they are (`plain`: no counting wrappers, the consumer as production runs it).
 */
function benchEnv(env: WriterBenchEnv, counts: Counts, storage: string): WriterBenchEnv {
  if (storage === "plain") return env;
  if (storage === "none")
    return env.RECORD_LEDGER === "sharded"
      ? { ...env, DB: instantD1, RAW: instantR2, LEDGER: instantShards }
      : { ...env, DB: instantD1, RAW: instantR2, RECORD_LEDGER: "d1" };
  return {
    ...env,
    DB: countingD1(env.DB, counts),
    RAW: countingR2(env.RAW, counts),
    ...(env.LEDGER ? { LEDGER: countingShards(env.LEDGER as DurableObjectNamespace, counts) } : {}),
  };
}

export const writerRoutes = new Hono<{ Bindings: WriterBenchEnv }>();

/** Builds `batches` batches of `size` envelopes, `per_message` to a message, encoded as the producers send them. */
writerRoutes.post("/writer/prepare", async (c) => {
  const batches = Number(c.req.query("batches") ?? "20");
  const size = Number(c.req.query("size") ?? "100");
  const perMessage = Number(c.req.query("per_message") ?? "1");
  const run = crypto.randomUUID().slice(0, 8);
  preparedBatches = [];
  preparedBundles = [];
  let jsonMessages = 0;
  for (let b = 0; b < batches; b++) {
    const bundle = await makeBundle(run, b, size);
    const bundles: RecordBundle[] = [];
    const messages: PreparedMessage[] = [];
    for (let i = 0; i < size; i += perMessage) {
      const one: RecordBundle = { ...bundle, records: bundle.records.slice(i, i + perMessage) };
      bundles.push(one);
      const sent = encoded(one);
      if (sent.contentType === "json") {
        jsonMessages++;
        messages.push({ json: JSON.stringify(one) });
      } else {
        const bytes = sent.body as Uint8Array;
        messages.push({ bytes: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
      }
    }
    preparedBatches.push(messages);
    preparedBundles.push(bundles);
  }
  return c.json({
    batches,
    envelopes: batches * size,
    json_messages: jsonMessages,
    gzip_messages: batches * (size / perMessage) - jsonMessages,
  });
});

/**
 * Runs the prepared batches once. `path=consumer` (default): `processIngestBatch` per batch (deliver
 * the messages, resolve them, write, ack). `path=writer`: `writeBundles` over the same bundles.
 * `storage=none` swaps D1, R2 and the ledger shards for ones that answer at once (the JS alone, with the
 * run's ledger client); `storage=plain` uses the stores uncounted. `concurrency`: batches in flight.
 */
writerRoutes.post("/writer/run", async (c) => {
  const path = c.req.query("path") ?? "consumer";
  const storage = c.req.query("storage") ?? "local";
  const concurrency = Number(c.req.query("concurrency") ?? "1");
  // Diagnostic: the consumer's log lines dropped (under wrangler dev each one travels to wrangler's terminal).
  if (c.req.query("quiet") === "1") setLogSink(() => {});
  try {
    return await runPrepared(c, path, storage, concurrency);
  } finally {
    setLogSink(undefined);
  }
});

async function runPrepared(
  c: { env: WriterBenchEnv; json: (v: unknown) => Response },
  path: string,
  storage: string,
  concurrency: number,
): Promise<Response> {
  const counts = new Counts();
  let insideMs = 0;
  const env = benchEnv(c.env, counts, storage);
  let envelopes = 0;
  let objects = 0;
  let acked = 0;
  const indexes = preparedBatches.map((_, i) => i);
  await inFlight(indexes, concurrency, async (i) => {
    if (path === "writer") {
      const bundles = preparedBundles[i] as RecordBundle[];
      const summary = await writeBundles(env, bundles, { retentionHours: 96 });
      envelopes += summary.written;
      objects += summary.objects.length;
      return;
    }
    const started = Date.now();
    const batch = deliver(preparedBatches[i] as PreparedMessage[]);
    await processIngestBatch(env, batch);
    insideMs += Date.now() - started;
    if ((batch as unknown as { acked: boolean }).acked) acked++;
    for (const m of preparedBundles[i] as RecordBundle[]) envelopes += m.records.length;
  });
  const n = preparedBatches.length;
  return c.json({
    envelopes,
    batches: n,
    acked_batches: path === "writer" ? n : acked,
    d1_round_trips_per_batch: counts.d1Trips / n,
    r2_puts_per_batch: counts.r2Puts / n,
    objects_per_batch: path === "writer" ? objects / n : counts.r2Puts / n,
    shard_calls_per_batch: counts.doCalls / n,
    // Per batch, measured inside (one batch at a time only: with several in flight the waits overlap).
    inside_ms: insideMs / n,
    d1_ms: counts.ms.d1 / n,
    r2_ms: counts.ms.r2 / n,
    shards_ms: counts.ms.shards / n,
    io_ms: counts.ms.io / n,
    ...(concurrency === 1 && counts.d1Trips === 2 * n
      ? {
          d1_read_ms: counts.d1Calls.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b, 0) / n,
          d1_write_ms: counts.d1Calls.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0) / n,
        }
      : {}),
  });
}

/** gzip of each prepared batch's object text (every line fresh), `repeat` times: the writer's compression alone. */
writerRoutes.post("/writer/part/gzip", async (c) => {
  const repeat = Number(c.req.query("repeat") ?? "1");
  let bytes = 0;
  for (let r = 0; r < repeat; r++)
    for (const bundles of preparedBundles) {
      const text = `${bundles.flatMap((b) => b.records.map((x) => x.line)).join("\n")}\n`;
      bytes += (await gzip(text)).byteLength;
    }
  return c.json({ ops: repeat * preparedBundles.length, bytes });
});

/** One R2 put per prepared batch of that batch's gzip'd object (made before the timing starts), `repeat` times. */
writerRoutes.post("/writer/part/put", async (c) => {
  const repeat = Number(c.req.query("repeat") ?? "1");
  const concurrency = Number(c.req.query("concurrency") ?? "1");
  const bodies = await Promise.all(
    preparedBundles.map((bundles) => gzip(`${bundles.flatMap((b) => b.records.map((x) => x.line)).join("\n")}\n`)),
  );
  const jobs = Array.from({ length: repeat * bodies.length }, (_, i) => i);
  const run = crypto.randomUUID().slice(0, 8);
  const started = Date.now();
  const variant = c.req.query("variant") ?? "object";
  const tiny = new Uint8Array(16);
  await inFlight(jobs, concurrency, async (i) => {
    const key = `bench-part/${run}/${i}.jsonl.gz`;
    if (variant === "bare") await c.env.RAW.put(key, tiny);
    else
      await c.env.RAW.put(key, bodies[i % bodies.length] as Uint8Array, {
        httpMetadata: { contentType: "application/gzip" },
        customMetadata: { records: "100", source: "bench", stream: "events" },
      });
  });
  return c.json({ ops: jobs.length, inside_ms: Date.now() - started });
});

/** `repeat` D1 round trips that do nothing (`SELECT 1` in a batch): the local D1's floor per round trip. */
writerRoutes.post("/writer/part/d1", async (c) => {
  const repeat = Number(c.req.query("repeat") ?? "30");
  const started = Date.now();
  for (let i = 0; i < repeat; i++) await c.env.DB.batch([c.env.DB.prepare("SELECT 1")]);
  return c.json({ ops: repeat, inside_ms: Date.now() - started });
});

/** Whether the clock moves while JS runs here (workerd freezes it between I/O in production). */
writerRoutes.get("/writer/clock", (c) => {
  const a = Date.now();
  let x = 0;
  for (let i = 0; i < 50_000_000; i++) x += i % 7;
  return c.json({ busy_ms: Date.now() - a, x });
});

/**
 * The floor of a batch: only the store calls the target itself requires, with the payloads the
 * consumer makes for that batch and no writer logic. `/writer/floor/capture` runs the consumer over
 * each prepared batch once against stores that record every call and keep nothing (reads answer
 * "nothing seen", as they would for these fresh ids); `/writer/floor/run` replays the recorded calls
 * against the real local stores: the ledger read (one D1 batch, or one RPC per shard touched, in
 * parallel), the one R2 put of the same gzip'd bytes, the ledger write (one D1 batch, or the shards'
 * RPCs beside the D1 batch of raw_objects and stream_stats).
 */
type FloorCall =
  | { store: "d1"; statements: D1PreparedStatement[] }
  | { store: "shard"; id: DurableObjectId; name: string; method: string; arg: unknown }
  | { store: "r2"; key: string; body: unknown; options: unknown };

let floorCalls: { reads: FloorCall[]; put: FloorCall[]; writes: FloorCall[] }[] = [];

function recordingEnv(env: WriterBenchEnv, calls: FloorCall[]): WriterBenchEnv {
  const db = new Proxy(env.DB, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "batch")
        return async (statements: D1PreparedStatement[]) => {
          calls.push({ store: "d1", statements });
          return statements.map(() => ({ results: [], success: true, meta: {} }));
        };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const raw = {
    async put(key: string, body: unknown, options: unknown) {
      calls.push({ store: "r2", key, body, options });
      return { key };
    },
  } as unknown as R2Bucket;
  const ledger = env.LEDGER as DurableObjectNamespace | undefined;
  const names = new Map<DurableObjectId, string>();
  const shards = ledger && {
    idFromName: (name: string) => {
      const id = ledger.idFromName(name);
      names.set(id, name);
      return id;
    },
    get: (id: DurableObjectId) => ({
      async read(arg: unknown) {
        calls.push({ store: "shard", id, name: names.get(id) ?? "", method: "read", arg });
        return { seen: [], held: [] };
      },
      async write(arg: unknown) {
        calls.push({ store: "shard", id, name: names.get(id) ?? "", method: "write", arg });
        return { dedupe: 0, marks: 0, receipts: 0 };
      },
    }),
  };
  return { ...env, DB: db, RAW: raw, ...(shards ? { LEDGER: shards } : {}) };
}

writerRoutes.post("/writer/floor/capture", async (c) => {
  floorCalls = [];
  for (const prepared of preparedBatches) {
    const calls: FloorCall[] = [];
    const batch = deliver(prepared);
    await processIngestBatch(recordingEnv(c.env, calls), batch);
    if (!(batch as unknown as { acked: boolean }).acked) throw new Error("the captured batch was not acked");
    const at = calls.findIndex((x) => x.store === "r2");
    if (at === -1 || calls.filter((x) => x.store === "r2").length !== 1) throw new Error("a batch makes one R2 put");
    floorCalls.push({ reads: calls.slice(0, at), put: [calls[at] as FloorCall], writes: calls.slice(at + 1) });
  }
  const n = floorCalls.length;
  const count = (f: (x: FloorCall) => boolean) =>
    floorCalls.reduce((s, b) => s + [...b.reads, ...b.put, ...b.writes].filter(f).length, 0) / n;
  return c.json({
    batches: n,
    d1_calls_per_batch: count((x) => x.store === "d1"),
    shard_calls_per_batch: count((x) => x.store === "shard"),
    r2_puts_per_batch: count((x) => x.store === "r2"),
  });
});

/**
 * Replays the captured calls, one batch at a time. `only=put|ledger` replays one part. Stubs are made
 * once per run, or (`stubs=batch`) per batch, as the consumer makes them (a ledger per invocation).
 */
writerRoutes.post("/writer/floor/run", async (c) => {
  const only = c.req.query("only");
  const stubsPerBatch = c.req.query("stubs") === "batch";
  // `shards=echo`: the same RPCs with the same arguments to shards that do no work.
  const echo = c.req.query("shards") === "echo";
  const ns = (echo ? c.env.ECHO_SHARDS : c.env.LEDGER) as DurableObjectNamespace | undefined;
  const stubs = new Map<string, DurableObjectStub>();
  const call = (x: FloorCall): Promise<unknown> => {
    if (x.store === "d1") return c.env.DB.batch(x.statements);
    if (x.store === "r2") return c.env.RAW.put(x.key, x.body as Uint8Array, x.options as R2PutOptions);
    if (!ns) throw new Error("no LEDGER binding");
    const name = x.name;
    let stub = stubs.get(name);
    if (!stub) {
      stub = ns.get(echo ? ns.idFromName(name) : x.id);
      stubs.set(name, stub);
    }
    return (stub as unknown as Record<string, (a: unknown) => Promise<unknown>>)[x.method]?.(x.arg) as Promise<unknown>;
  };
  const started = Date.now();
  for (const b of floorCalls) {
    if (stubsPerBatch) stubs.clear();
    if (only !== "put") await Promise.all(b.reads.map(call));
    if (only !== "ledger") await Promise.all(b.put.map(call));
    if (only !== "put") await Promise.all(b.writes.map(call));
  }
  return c.json({ batches: floorCalls.length, inside_ms: (Date.now() - started) / Math.max(1, floorCalls.length) });
});

/** A ledger shard's RPC surface answering at once: what the shard calls cost with no SQL behind them. */
export class EchoShard extends DurableObject {
  read(_q: { keys: string[] }): { seen: [string, number][]; held: never[] } {
    return { seen: [], held: [] };
  }

  write(_w: { dedupe: unknown[] }): { dedupe: number; marks: number; receipts: number } {
    return { dedupe: 0, marks: 0, receipts: 0 };
  }
}
