#!/usr/bin/env node
// Ledger load test (issue #19): webhook-shaped records (one envelope per INGEST message, distinct ids,
// 5% repeats) through the real Worker in `wrangler dev` into R2 and the record ledger, once per ledger
// (`RECORD_LEDGER=d1`, then `sharded`), each from empty local state. The first LOAD_ROUTE_RECORDS
// go through `POST /webhooks/acme` (HMAC verified by the route); the rest enter INGEST through the
// sidecar door `POST /ingest/cdc` as deliveries of 100 one-record bundles, so each is still one
// message of one envelope (with its receipt) for the same consumer and raw writer. Reads back that R2
// holds every distinct `_dock.id` exactly once, measures the store's bytes per record from the SQLite
// files wrangler keeps (D1 and the ledger's Durable Objects), meters the writer's D1 operations per
// batch in a separate Worker, and projects the sustained rate at which the store reaches its cap.
// Run: node bench/ledger-load.bench.mjs   (LOAD_RECORDS, LOAD_LEDGERS=d1,sharded, LEDGER_SHARDS)
import { spawnSync } from "node:child_process";
import { createHash, createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { Webhook } from "standardwebhooks";
import { writeSection } from "./lib/results.mjs";
import { startWranglerDev } from "./lib/wrangler-dev.mjs";

const RECORDS = Number(process.env.LOAD_RECORDS ?? 1_000_000);
const LEDGERS = (process.env.LOAD_LEDGERS ?? "d1,sharded").split(",");
const ROOT_TOML = readFileSync(resolve(import.meta.dirname, "..", "wrangler.toml"), "utf8");
/** The shard count: LEDGER_SHARDS, else wrangler.toml's (the default a deployment gets). */
const SHARDS = process.env.LEDGER_SHARDS ?? /^LEDGER_SHARDS\s*=\s*"(\d+)"/m.exec(ROOT_TOML)?.[1] ?? "32";
const HORIZON_HOURS = 96;
/** The first ROUTE_RECORDS go through the route; the rest straight onto INGEST (same messages, same consumer). */
const ROUTE_RECORDS = Number(process.env.LOAD_ROUTE_RECORDS ?? 20_000);
const CHUNK = Number(process.env.LOAD_CHUNK ?? 10_000);
const BACKLOG = Number(process.env.LOAD_BACKLOG ?? 30_000);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 16);
/** Every REPEAT_EVERY-th id of a chunk is sent again after the next chunk: a 5% share of repeats. */
const REPEAT_EVERY = 20;
const METER_BATCHES = 20;
const ADMIN = "bench-load-admin";
const SECRET = "bench-acme-secret";
const CDC_SECRET = "whsec_YmVuY2gtbGVkZ2VyLWxvYWQtaW5nZXN0LXNlY3JldCE=";
const BULK_SOURCE = "loadtest";
const ROOT = resolve(import.meta.dirname, "..");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n, d = 0) => Number(n).toLocaleString("en", { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * Bundles a config's Worker once (`wrangler deploy --dry-run`) and writes a config that runs the bundle:
 * `wrangler dev` then watches only that file, so other work on src/ cannot restart the Worker mid-run.
 */
function frozen(configFile, text) {
  const dir = mkdtempSync(join(tmpdir(), "dock-load-config-"));
  const source = join(dir, "source.toml");
  writeFileSync(source, text);
  const out = join(dir, "build");
  const r = spawnSync("node_modules/.bin/wrangler", ["deploy", "--dry-run", "--outdir", out, "--config", source], {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (r.status !== 0) throw new Error(`bundling ${configFile} failed: ${r.stderr}`);
  const bundle = readdirSync(out).find((f) => f.endsWith(".js"));
  const file = join(dir, "wrangler.toml");
  writeFileSync(file, text.replace(/^main = .*$/m, `main = "${join(out, bundle)}"`));
  return file;
}

/**
 * The project's wrangler.toml with the run's vars, in a folder of its own (so no .dev.vars is read):
 * in a multi-config `wrangler dev`, `--var` reaches only the first config (the driver).
 */
function dockConfig(vars) {
  let text = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
    .replace(/^main = "src\/index.ts"$/m, `main = "${join(ROOT, "src/index.ts")}"`)
    .replace(/^migrations_dir = "migrations"$/m, `migrations_dir = "${join(ROOT, "migrations")}"`);
  for (const k of Object.keys(vars)) text = text.replace(new RegExp(`^${k} = .*$`, "m"), "");
  text = text.replace(
    /^\[vars\]$/m,
    `[vars]\n${Object.entries(vars)
      .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
      .join("\n")}`,
  );
  return frozen("wrangler.toml", text);
}

function meterConfig() {
  const dir = join(ROOT, "bench/workers");
  const text = readFileSync(join(dir, "ledger-load.toml"), "utf8")
    .replace(/^main = "(.*)"$/m, (_, m) => `main = "${join(dir, m)}"`)
    .replace(/^migrations_dir = "(.*)"$/m, (_, m) => `migrations_dir = "${join(dir, m)}"`);
  return frozen("bench/workers/ledger-load.toml", text);
}

async function landed(url) {
  const res = await fetch(`${url}/status`, { headers: { authorization: `Bearer ${ADMIN}` } });
  if (!res.ok) throw new Error(`/status answered ${res.status}`);
  const status = await res.json();
  const count = (source) => status.sources.find((s) => s.source === source)?.streams.find((s) => s.stream === "events")?.records ?? 0;
  return count("acme") + count(BULK_SOURCE);
}

async function post(url) {
  const res = await fetch(url, { method: "POST" });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** Every object under the stream's prefix, read back through the admin API: lines and distinct ids. */
async function readBack(url) {
  const auth = { authorization: `Bearer ${ADMIN}` };
  const keys = [];
  let cursor;
  for (const source of ["acme", BULK_SOURCE]) {
    do {
      const q = new URLSearchParams({ prefix: `raw/source=${source}/stream=events/`, ...(cursor ? { cursor } : {}) });
      const page = await (await fetch(`${url}/admin/raw?${q}`, { headers: auth })).json();
      for (const o of page.objects) keys.push(o.key);
      cursor = page.cursor ?? undefined;
    } while (cursor);
  }
  const ids = new Set();
  let lines = 0;
  let gzBytes = 0;
  let next = 0;
  await Promise.all(
    // At most 4 in flight: the admin API counts a token's attempts before checking it and refuses a sixth at once.
    Array.from({ length: 4 }, async () => {
      while (next < keys.length) {
        const key = keys[next++];
        const res = await fetch(`${url}/admin/raw/${key}`, { headers: auth });
        if (!res.ok) throw new Error(`/admin/raw/${key} answered ${res.status}: ${await res.text()}`);
        const body = Buffer.from(await res.arrayBuffer());
        gzBytes += Number(res.headers.get("content-length") ?? body.byteLength);
        const text = gunzipSync(body).toString("utf8");
        for (const line of text.split("\n")) {
          if (!line) continue;
          lines++;
          const at = line.indexOf('"id":"') + 6;
          ids.add(line.slice(at, at + 32));
        }
      }
    }),
  );
  return { objects: keys.length, lines, distinct: ids.size, gzBytes };
}

const eventBody = (id, at) =>
  `{"id":"${id}","type":"order.paid","created":${at},"data":{"order":"ord_${id}","amount":4200,"currency":"eur","customer":{"id":"cus_${id.slice(-6)}","email":"buyer@example.com"},"note":"a typical small partner event"}}`;
const idOf = (n) => `evt-${String(n).padStart(9, "0")}`;

/** Acme webhooks for every step-th id of [from, to), signed as the generic HMAC source checks, CONCURRENCY at a time. */
async function viaRoute(url, from, to, step) {
  let next = from;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < to) {
        const id = idOf(next);
        next += step;
        const at = Math.floor(Date.now() / 1000);
        const body = eventBody(id, at);
        const mac = createHmac("sha256", SECRET).update(`${at}.${body}`).digest("hex");
        const headers = {
          "content-type": "application/json",
          "x-acme-signature": `sha256=${mac}`,
          "x-acme-timestamp": String(at),
          "x-acme-delivery": id,
        };
        let res;
        // As vendors do: a webhook answered 503 is delivered again.
        for (let attempt = 0; ; attempt++) {
          res = await fetch(`${url}/webhooks/acme`, { method: "POST", body, headers });
          await res.arrayBuffer();
          if (res.status !== 503 || attempt === 5) break;
          retries++;
        }
        if (res.ok) ok++;
        else failed++;
      }
    }),
  );
  return { ok, failed };
}

const sidecarSigner = new Webhook(CDC_SECRET);
/** Deliveries sent again after a 503 (wrangler dev restarting its Worker under load answers so). */
let retries = 0;

/**
 * The same events as one-record bundles of the bulk source (key = version = receipt = the event id,
 * the envelope a webhook gets), 100 bundles per signed delivery to the sidecar door, 4 in flight.
 */
async function viaIngest(url, from, to, step) {
  const deliveries = [];
  let bundles = [];
  const at = Math.floor(Date.now() / 1000);
  for (let n = from; n < to; n += step) {
    const id = idOf(n);
    const receivedAt = new Date().toISOString();
    const dockId = createHash("sha256").update(`${BULK_SOURCE}\nevents\n${id}\n${id}`).digest("hex").slice(0, 32);
    const dock = {
      id: dockId,
      source: BULK_SOURCE,
      stream: "events",
      pattern: "poll",
      key: id,
      version: id,
      op: "event",
      received_at: receivedAt,
      run_id: "load",
    };
    const line = `{"_dock":${JSON.stringify(dock)},"data":${eventBody(id, at)}}`;
    bundles.push({
      kind: "bundle",
      v: 1,
      source: BULK_SOURCE,
      stream: "events",
      pattern: "poll",
      received_at: receivedAt,
      records: [{ id: dockId, line, receipt: id }],
    });
    if (bundles.length === 100) {
      deliveries.push(bundles);
      bundles = [];
    }
  }
  if (bundles.length > 0) deliveries.push(bundles);
  let ok = 0;
  let failed = 0;
  let next = 0;
  const retried = new Map();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < deliveries.length) {
        const list = deliveries[next++];
        const body = JSON.stringify({ bundles: list });
        const msgId = `load-${randomUUID()}`;
        const ts = new Date();
        const res = await fetch(`${url}/ingest/cdc`, {
          method: "POST",
          body,
          headers: {
            "content-type": "application/json",
            "webhook-id": msgId,
            "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)),
            "webhook-signature": sidecarSigner.sign(msgId, ts, body),
          },
        });
        const text = await res.text();
        if (res.ok) ok += list.length;
        else if (res.status === 503 && (retried.get(list) ?? 0) < 5) {
          // As the sidecar does: a delivery refused with 503 is sent again (signed anew).
          retried.set(list, (retried.get(list) ?? 0) + 1);
          retries++;
          deliveries.push(list);
        } else {
          failed += list.length;
          console.error(`/ingest/cdc answered ${res.status}: ${text.slice(0, 300)}`);
        }
      }
    }),
  );
  return { ok, failed };
}

function sqliteFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sqliteFiles(p));
    // metadata.sqlite is miniflare's own index of the objects in a folder, not a store.
    else if (entry.name.endsWith(".sqlite") && entry.name !== "metadata.sqlite") out.push(p);
  }
  return out;
}

/** Bytes SQLite holds per table and index (dbstat), after folding the WAL in; wrangler must be stopped. */
function sqliteBytes(file) {
  const r = spawnSync(
    "sqlite3",
    [
      file,
      "PRAGMA wal_checkpoint(TRUNCATE);",
      "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name;",
      "PRAGMA page_count;",
      "PRAGMA page_size;",
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`sqlite3 ${file}: ${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  const pageSize = Number(lines.pop());
  const pageCount = Number(lines.pop());
  const tables = {};
  for (const l of lines.slice(1)) {
    const [name, bytes] = l.split("|");
    tables[name] = Number(bytes);
  }
  return { file, bytes: pageCount * pageSize, fileBytes: statSync(file).size, tables };
}

/** The stores' SQLite files in the local state: D1's database and each ledger shard (Durable Object). */
function storeBytes(state) {
  const files = sqliteFiles(join(state, "v3")).map(sqliteBytes);
  const d1 = files.filter((f) => f.file.includes("D1DatabaseObject"));
  const shards = files.filter((f) => f.file.includes("LedgerShard"));
  const tablesOf = (list) => {
    const t = {};
    for (const f of list) for (const [k, v] of Object.entries(f.tables)) t[k] = (t[k] ?? 0) + v;
    return t;
  };
  return {
    d1: { bytes: d1.reduce((n, f) => n + f.bytes, 0), tables: tablesOf(d1), files: d1.length },
    shards: {
      bytes: shards.reduce((n, f) => n + f.bytes, 0),
      tables: tablesOf(shards),
      files: shards.length,
      sizes: shards.map((f) => f.bytes),
    },
  };
}

async function runLedger(ledger) {
  const vars = { RECORD_LEDGER: ledger, LEDGER_SHARDS: SHARDS, DEDUPE_RETENTION_HOURS: String(HORIZON_HOURS) };
  const meterDev = await startWranglerDev({ config: meterConfig(), args: ["--log-level", "warn"], vars });
  let meter;
  try {
    meter = await post(`${meterDev.url}/load/meter?batches=${METER_BATCHES}`);
    console.log(ledger, "meter", JSON.stringify(meter));
  } finally {
    await meterDev.stop();
  }
  const config = dockConfig({
    ...vars,
    ADMIN_TOKEN: ADMIN,
    ACME_WEBHOOK_SECRET: SECRET,
    CDC_INGEST_SECRET: CDC_SECRET,
    CDC_SOURCES: BULK_SOURCE,
  });
  const dock = await startWranglerDev({ config, args: ["--log-level", "warn"] });
  let read;
  const progress = [];
  let sendMs = 0;
  let routeMs = 0;
  let queueStarted = 0;
  let e2eMs = 0;
  let queueMs = 0;
  let requests = 0;
  let refused = 0;
  try {
    const started = Date.now();
    let seen = 0;
    for (let a = 0; a < RECORDS; a += CHUNK) {
      const b = Math.min(a + CHUNK, RECORDS);
      while (a - seen > BACKLOG) {
        await sleep(500);
        seen = await landed(dock.url);
      }
      const t = Date.now();
      const path = a < ROUTE_RECORDS ? "send" : "enqueue";
      if (path === "enqueue" && !queueStarted) queueStarted = t;
      const via = path === "send" ? viaRoute : viaIngest;
      const fresh = await via(dock.url, a, b, 1);
      // A repeat comes the way its first delivery came (the route's ids are acme's, the rest the bulk source's).
      const again =
        a > 0 ? await (a - CHUNK < ROUTE_RECORDS ? viaRoute : viaIngest)(dock.url, a - CHUNK, a, REPEAT_EVERY) : { ok: 0, failed: 0 };
      const chunkMs = Date.now() - t;
      sendMs += chunkMs;
      if (path === "send") routeMs += chunkMs;
      requests += fresh.ok + again.ok;
      refused += fresh.failed + again.failed;
      seen = await landed(dock.url);
      progress.push(
        `${Math.round((Date.now() - started) / 1000)} s: ${fmt(b)} ${path === "send" ? "through the route" : "enqueued"} (chunk ${fmt(chunkMs / 1000, 1)} s), ${fmt(seen)} in R2`,
      );
      console.log(ledger, progress.at(-1));
    }
    const last = Math.floor((RECORDS - 1) / CHUNK) * CHUNK;
    const tail = await (last < ROUTE_RECORDS ? viaRoute : viaIngest)(dock.url, last, RECORDS, REPEAT_EVERY);
    requests += tail.ok;
    const deadline = Date.now() + Number(process.env.LOAD_TIMEOUT_S ?? 1800) * 1000;
    for (seen = await landed(dock.url); seen < RECORDS; seen = await landed(dock.url)) {
      if (Date.now() > deadline) throw new Error(`timed out: ${seen} of ${RECORDS} landed`);
      await sleep(500);
    }
    e2eMs = Date.now() - started;
    queueMs = queueStarted ? Date.now() - queueStarted : 0;
    // The last repeats are behind the last fresh records in the queue: give the consumer a moment to drop them.
    await sleep(5000);
    read = await readBack(dock.url);
    // Rows the ledger holds (dedupe keys, receipts, marks), as GET /admin/ledger counts them.
    const held = await fetch(`${dock.url}/admin/ledger`, { headers: { authorization: `Bearer ${ADMIN}` } });
    if (!held.ok) throw new Error(`/admin/ledger answered ${held.status}`);
    read.rows = (await held.json()).ledger.rows;
    console.log(ledger, "read back", JSON.stringify(read));
  } finally {
    await dock.stop();
    writeFileSync(join(dock.state, "wrangler.log"), dock.log());
    const failures = dock
      .log()
      .split("\n")
      .filter((l) => /batch_failed|quarantined|"level":"error"|Error/.test(l));
    console.log(
      ledger,
      `wrangler log: ${join(dock.state, "wrangler.log")}; ${failures.length} error lines`,
      failures.slice(0, 5).join("\n").slice(0, 2000),
    );
  }
  const store = storeBytes(dock.state);
  if (read.distinct !== RECORDS) throw new Error(`${ledger}: R2 holds ${read.distinct} distinct ids, not ${RECORDS}`);
  return { ledger, meter, read, store, progress, sendMs, routeMs, queueMs, e2eMs, requests, refused };
}

// Cloudflare's published limits (each linked in docs/capacity.md).
const D1_CAP_BYTES = 10e9; // D1: maximum database size 10 GB (Workers Paid)
const DO_CAP_BYTES = 10e9; // SQLite-backed Durable Objects: storage per object 10 GB
const DO_RPS = 1000; // a single Durable Object: a soft limit of about 1,000 requests per second
const QUEUE_MPS = 5000; // Queues: 5,000 messages per second per queue
const HORIZON_S = HORIZON_HOURS * 3600;
// RECEIPT_RETENTION_DAYS in wrangler.toml: how long the shards keep receipts.
const RECEIPT_DAYS = Number(/^RECEIPT_RETENTION_DAYS\s*=\s*"(\d+)"/m.exec(ROOT_TOML)?.[1] ?? "35");

const isDedupe = (name) => /^(dedupe_|keys_\d+$|sqlite_autoindex_dedupe_keys)/.test(name);
const isReceipt = (name) => /^(webhook_receipts|receipts(_\d+)?$|sqlite_autoindex_webhook_receipts)/.test(name);
const isMark = (name) => /^(object_versions|marks$|sqlite_autoindex_object_versions)/.test(name);

function summarise(r) {
  const tables = r.ledger === "d1" ? r.store.d1.tables : r.store.shards.tables;
  const part = (test) =>
    Object.entries(tables)
      .filter(([k]) => test(k))
      .reduce((n, [, v]) => n + v, 0);
  const dedupeBytes = part(isDedupe);
  const receiptBytes = part(isReceipt);
  const markBytes = part(isMark);
  const dedupe = dedupeBytes / RECORDS;
  const receipt = receiptBytes / RECORDS;
  const mark = markBytes / RECORDS;
  // The writer keeps receipts only of sources reconciled event by event (here the bulk source; acme's
  // generic HMAC source is not): each kind of row is measured by its own count.
  const receiptsHeld = r.read.rows.receipts;
  const perKey = dedupeBytes / Math.max(1, r.read.rows.dedupe);
  const perReceipt = receiptsHeld > 0 ? receiptBytes / receiptsHeld : 0;
  // The sharded ledger's file bytes include each shard's empty-database floor; the whole of it counts against the cap.
  const perRecord = r.ledger === "d1" ? dedupe + receipt + mark : r.store.shards.bytes / RECORDS;
  const overhead = perRecord - dedupe - receipt - mark;
  const capBytes = r.ledger === "d1" ? D1_CAP_BYTES : Number(SHARDS) * DO_CAP_BYTES;
  const keyOnly = perKey + overhead + mark;
  // A record of a source that keeps no receipt (all but event-level ones): its dedupe key for the horizon.
  const rateKeyOnly = capBytes / (keyOnly * HORIZON_S);
  // A record with a receipt, both held for the dedupe horizon (the issue's model).
  const rateHorizon = capBytes / ((keyOnly + perReceipt) * HORIZON_S);
  // As configured: the key for the horizon, the receipt for RECEIPT_RETENTION_DAYS (sharded) or never pruned (D1).
  const rateConfigured = r.ledger === "d1" ? 0 : capBytes / (keyOnly * HORIZON_S + perReceipt * RECEIPT_DAYS * 86400);
  const callsPerRecord = r.meter.fresh.ledgerCalls / r.meter.records;
  const doCallsPerRecord = r.ledger === "d1" ? 0 : (r.meter.fresh.ledgerCalls - r.meter.fresh.d1RoundTrips) / r.meter.records;
  // Every batch of 100 keys touches (nearly) every shard: the shards share the calls, each sees every batch.
  const rateDoRequests = r.ledger === "d1" ? 0 : (DO_RPS * Number(SHARDS)) / doCallsPerRecord;
  return {
    ...r,
    dedupe,
    receipt,
    mark,
    overhead,
    perRecord,
    perKey,
    perReceipt,
    receiptsHeld,
    keyOnly,
    capBytes,
    rateKeyOnly,
    rateHorizon,
    rateConfigured,
    callsPerRecord,
    doCallsPerRecord,
    rateDoRequests,
  };
}

const results = [];
for (const ledger of LEDGERS) results.push(summarise(await runLedger(ledger)));

const load = loadavg()
  .map((l) => l.toFixed(1))
  .join(", ");
const routeRate = (r) => (r.routeMs ? `${fmt(Math.min(ROUTE_RECORDS, RECORDS) / (r.routeMs / 1000))}` : "–");
const text = `
Path measured, per ledger, each from empty local state in one \`wrangler dev\` of the real Worker (\`wrangler.toml\` with
\`RECORD_LEDGER\`, \`LEDGER_SHARDS=${SHARDS}\`, \`DEDUPE_RETENTION_HOURS=${HORIZON_HOURS}\`; bundled once so edits elsewhere cannot restart it):
the first ${fmt(Math.min(ROUTE_RECORDS, RECORDS))} records are acme webhooks (the generic HMAC source, ~210-byte bodies, signed in the benchmark)
sent to \`POST /webhooks/acme\` (${CONCURRENCY} in flight): route → INGEST (one message per webhook) → raw writer → ledger.
The other ${fmt(Math.max(0, RECORDS - ROUTE_RECORDS))} enter INGEST through the sidecar door (\`POST /ingest/cdc\`, source \`${BULK_SOURCE}\`) as deliveries of 100
one-record bundles with receipts, so each is one INGEST message of one envelope, written by the same consumer and raw
writer (batches of up to 100 messages) into the same ledger — the store side at volume, without the route's HTTP cost
on these 2 cores. Each ${fmt(CHUNK)}-id chunk is followed by every ${REPEAT_EVERY}th id of the previous chunk again, the same way (a
${100 / REPEAT_EVERY}% share of repeats, which dedupe must drop); sending pauses while more than ${fmt(BACKLOG)} records wait in the local queue.
A request answered 503 (wrangler dev restarting its Worker under this load) is sent again, as vendors and the sidecar do:
${retries} such retries in all. Load average (1, 5, 15 min) at the end: ${load} on 2 cores shared with other work.

| ledger | records | requests (refused after retries) | route webhooks/s | end to end s | records/s end to end | R2 objects | distinct \`_dock.id\` in R2 | lines in R2 |
|---|---|---|---|---|---|---|---|---|
${results.map((r) => `| ${r.ledger} | ${fmt(RECORDS)} | ${fmt(r.requests)} (${r.refused}) | ${routeRate(r)} | ${fmt(r.e2eMs / 1000, 1)} | ${fmt(RECORDS / (r.e2eMs / 1000))} | ${fmt(r.read.objects)} | ${fmt(r.read.distinct)} | ${fmt(r.read.lines)} |`).join("\n")}

Store bytes: SQLite's own page counts (\`dbstat\`, \`page_count × page_size\`) of the local files once \`wrangler dev\` has stopped
(WAL folded in), per record held. D1 counts its ledger tables and their indexes; the sharded ledger counts its
${SHARDS} Durable Objects' whole files (their empty-database floor included, as storage billing does).

| ledger | dedupe B/key | receipt B/receipt | receipts held / records | other B/record | **store B/record** (this run) | cap (published) | records/s that fill it: no receipt, key held ${HORIZON_HOURS} h | with a receipt, both held ${HORIZON_HOURS} h | with a receipt kept as configured |
|---|---|---|---|---|---|---|---|---|---|
${results.map((r) => `| ${r.ledger} | ${fmt(r.perKey, 1)} | ${fmt(r.perReceipt, 1)} | ${fmt(r.receiptsHeld)} / ${fmt(RECORDS)} | ${fmt(r.overhead + r.mark, 1)} | **${fmt(r.perRecord, 1)}** | ${r.ledger === "d1" ? "one D1: 10 GB" : `${SHARDS} × 10 GB (per Durable Object)`} | **${fmt(r.rateKeyOnly)}** | **${fmt(r.rateHorizon)}** | ${r.ledger === "d1" ? `receipts never pruned: full after ${fmt(D1_CAP_BYTES / ((r.keyOnly + r.perReceipt) * 1000) / 86400, 1)} days at 1,000/s` : `receipts kept ${RECEIPT_DAYS} d: ${fmt(r.rateConfigured)}`} |`).join("\n")}

Receipts are kept only for sources reconciled event by event (src/reconcile/objects.ts \`receiptsKeptFrom\`: Stripe and GitHub,
and a source the registry does not know, like this bench's bulk source); acme (generic HMAC, not reconcilable)
keeps none, as Segment, HubSpot and the other record-level or unreconcilable sources. "no receipt" is the rate for those records.

D1 tables and indexes, bytes: ${results
  .map(
    (r) =>
      `${r.ledger}: ${Object.entries(r.store.d1.tables)
        .filter(([, v]) => v > 8192)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(", ")}`,
  )
  .join("; ")}.
${results
  .filter((r) => r.store.shards.files > 0)
  .map(
    (r) =>
      `Durable Object tables, bytes over all ${r.store.shards.files} shards: ${Object.entries(r.store.shards.tables)
        .filter(([, v]) => v > 8192)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(", ")}; file sizes ${fmt(Math.min(...r.store.shards.sizes))}–${fmt(Math.max(...r.store.shards.sizes))} bytes per shard.`,
  )
  .join("\n")}

Operations per batch: a meter Worker (\`bench/workers/ledger-load-worker.ts\`) runs the consumer's own \`writeBundles\` over ${METER_BATCHES}
webhook-shaped batches (100 messages × 1 envelope with its receipt), then over the same batches again (all repeats),
and sums what local D1 reports per statement (\`meta.rows_read\`, \`meta.rows_written\`) and the ledger's counters (round
trips; calls = Durable Object RPCs, one per shard touched, plus the D1 batch sent beside them).

| ledger | pass | ledger round trips / batch | calls / batch | of them Durable Object RPCs | D1 statements / batch | D1 rows read / record | D1 rows written / record | records/s (meter) |
|---|---|---|---|---|---|---|---|---|
${results
  .flatMap((r) =>
    ["fresh", "repeat"].map((p) => {
      const m = r.meter[p];
      const b = r.meter.batches;
      return `| ${r.ledger} | ${p} | ${fmt(m.ledgerRoundTrips / b, 1)} | ${fmt(m.ledgerCalls / b, 1)} | ${r.ledger === "d1" ? 0 : fmt((m.ledgerCalls - (p === "fresh" ? b : 0)) / b, 1)} | ${fmt(m.d1Statements / b, 1)} | ${fmt(m.d1RowsRead / r.meter.records, 2)} | ${fmt(m.d1RowsWritten / r.meter.records, 2)} | ${fmt(r.meter.records / (m.ms / 1000))} |`;
    }),
  )
  .join("\n")}

${results
  .filter((r) => r.ledger !== "d1")
  .map(
    (r) =>
      `Request ceiling of the sharded ledger: ${fmt(r.doCallsPerRecord, 2)} Durable Object requests per record (read and write wave); at ~${fmt(DO_RPS)} requests/s per object and ${SHARDS} objects, **${fmt(r.rateDoRequests)} records/s**. Queues take ${fmt(QUEUE_MPS)} messages/s per queue: one message per webhook caps one INGEST queue at ${fmt(QUEUE_MPS)} webhook records/s, whatever the store.`,
  )
  .join("\n")}
Target after: ≥ 10,000 records/s sustained over the ${HORIZON_HOURS} h horizon. Projections divide Cloudflare's published caps by the bytes and requests measured here; docs/capacity.md links the limits and prices.

Progress: ${results.map((r) => `${r.ledger}: ${r.progress.filter((_, i, a) => i % Math.max(1, Math.ceil(a.length / 6)) === 0 || i === a.length - 1).join("; ")}`).join(". ")}.
`;
console.log(text);
// LOAD_SECTION names a section of its own (a one-ledger run at another size beside the before/after one).
writeSection(process.env.LOAD_SECTION ?? "Ledger load (issue #19)", text);
