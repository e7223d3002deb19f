#!/usr/bin/env -S node --import tsx
/**
 * `npm run soak -- --minutes 5`: the whole pipeline under a steady load, end to end, then a count.
 * A local `wrangler dev`; the demo vendor, polled on the scheduler tick; the CDC sidecar against a
 * throwaway PostgreSQL with a stream of inserts, updates and deletes; a Stripe webhook sender that
 * drops 5% of deliveries and duplicates 5% (a Stripe-shaped /v1/events answers reconciliation);
 * at the end the raw zone is pulled (`dock raw pull`'s code) and counted with DuckDB against what
 * each source sent. The run fails if anything is missing, and writes its table to bench/RESULTS.md.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import Stripe from "stripe";
import { writeSection } from "../bench/lib/results.mjs";
import { freePort, startWranglerDev } from "../bench/lib/wrangler-dev.mjs";
import { startDemoVendor } from "../demo/server";
import { PgCluster } from "../sidecar/test/helpers/pg-cluster";
import { SidecarProcess } from "../sidecar/test/helpers/sidecar-process";
import { rawPull } from "./raw-pull.mjs";

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(name) ? (args[args.indexOf(name) + 1] as string) : fallback);
const MINUTES = Number(opt("--minutes", process.env.SOAK_MINUTES ?? "5"));
const DROP = 0.05;
const DUPLICATE = 0.05;
const ADMIN = "soak-admin-token";
const STRIPE_SECRET = "whsec_soak_stripe_secret";
const CDC_SECRET = "whsec_c29hay1jZGMtaW5nZXN0LXNlY3JldC0zMmJ5dGVzIQ==";
const say = (text: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${text}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stripe's list API for events, newest first, over every event the sender made (dropped ones too). */
function fakeStripeApi(events: { id: string; created: number; body: string }[]) {
  const app = new Hono();
  app.get("/v1/events", (c) => {
    const gte = Number(c.req.query("created[gte]") ?? 0);
    const lte = Number(c.req.query("created[lte]") ?? Number.MAX_SAFE_INTEGER);
    const limit = Math.min(100, Number(c.req.query("limit") ?? 10));
    const after = c.req.query("starting_after");
    const all = events.filter((e) => e.created >= gte && e.created <= lte).sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
    const start = after ? all.findIndex((e) => e.id === after) + 1 : 0;
    const page = all.slice(start, start + limit);
    const text = `{"object":"list","url":"/v1/events","has_more":${start + limit < all.length},"data":[${page.map((e) => e.body).join(",")}]}`;
    return c.body(text, 200, { "content-type": "application/json" });
  });
  return app;
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function readGz(file: string): string {
  const bytes = readFileSync(file);
  return file.endsWith(".gz") ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8");
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

/** Which secrets (named by their position, never printed) appear in any of the texts. */
function scanForSecrets(secrets: string[], texts: string[]): string[] {
  return secrets.map((s, i) => (texts.some((t) => t.includes(s)) ? `secret #${i + 1}` : "")).filter(Boolean);
}

/** "source.stream state" for every stream /status reports, whatever shape its entries take. */
function states(status: Record<string, unknown>): string {
  const streams = (status.streams as { source?: string; stream?: string; state?: string }[] | undefined) ?? [];
  const parts = streams.filter((s) => s.state).map((s) => `${s.source}.${s.stream} ${s.state}`);
  return parts.length > 0 ? parts.join(", ") : "(none reported)";
}

async function main() {
  const rand = random(20261125);
  const work = mkdtempSync(path.join(tmpdir(), "dock-soak-"));
  const stripe = new Stripe("sk_test_soak");
  const events: { id: string; created: number; body: string }[] = [];
  const sent = { webhooks: 0, dropped: 0, duplicated: 0, refused: 0, cdcChanges: 0 };
  const cleanups: (() => Promise<unknown> | unknown)[] = [];

  try {
    say(`starting: PostgreSQL, the demo vendor, a Stripe-shaped API, wrangler dev, the CDC sidecar — ${MINUTES} min of load`);
    const pgc = await PgCluster.start();
    cleanups.push(() => pgc.ctl(["stop", "-m", "fast", "-w"]));
    await pgc.sql(
      "CREATE TABLE public.orders (id bigserial PRIMARY KEY, amount int NOT NULL, note text, updated_at timestamptz NOT NULL DEFAULT now())",
    );

    const vendor = await startDemoVendor({ port: 0, touchPerMinute: 60, items: 1000 });
    cleanups.push(() => vendor.stop());
    const stripePort = await freePort();
    const stripeServer = serve({ fetch: fakeStripeApi(events).fetch, port: stripePort, hostname: "127.0.0.1" });
    cleanups.push(() => new Promise((r) => stripeServer.close(r)));

    const dock = await startWranglerDev({
      vars: {
        ADMIN_TOKEN: ADMIN,
        STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
        STRIPE_API_KEY: "sk_test_soak_reader",
        STRIPE_API_BASE: `http://127.0.0.1:${stripePort}`,
        CDC_INGEST_SECRET: CDC_SECRET,
        DEMO_VENDOR_URL: vendor.url,
        DEMO_VENDOR_TOKEN: "demo-token-not-a-secret",
      },
    });
    cleanups.push(() => dock.stop());
    const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
    const tick = () => fetch(`${dock.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);

    const sidecar = new SidecarProcess(
      {
        ...pgc.env,
        WORKER_URL: dock.url,
        CDC_INGEST_SECRET: CDC_SECRET,
        CDC_SOURCE: "app_db",
        CDC_TABLES: "public.orders",
        CDC_HEALTH_PORT: String(await freePort()),
        CDC_STATE_FILE: path.join(work, "cdc-state.json"),
        CDC_HEARTBEAT_MS: "5000",
      },
      path.join(work, "sidecar.log"),
    );
    cleanups.push(() => sidecar.terminate());
    // Changes made before the slot exists are not changes to the stream (the snapshot holds them):
    // the load starts once the sidecar has its slot.
    for (let i = 0; ; i++) {
      const slots = await pgc.sql("SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_type = 'logical'");
      if (slots.rows[0]?.n > 0) break;
      if (i > 120) throw new Error("the CDC sidecar did not create its slot within a minute");
      await sleep(500);
    }

    // The load.
    const until = Date.now() + MINUTES * 60_000;
    await tick();
    let lastTick = Date.now();
    const db = await pgc.client();
    cleanups.push(() => db.end());
    const orderIds: number[] = [];
    let n = 0;
    while (Date.now() < until) {
      n++;
      const id = `evt_soak_${String(n).padStart(6, "0")}`;
      const created = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({
        id,
        object: "event",
        api_version: "2024-06-20",
        created,
        type: "charge.succeeded",
        data: { object: { id: `ch_soak_${n}`, object: "charge", amount: 1000 + n } },
      });
      events.push({ id, created, body });
      const roll = rand();
      if (roll < DROP) sent.dropped++;
      else {
        const copies = roll < DROP + DUPLICATE ? 2 : 1;
        if (copies === 2) sent.duplicated++;
        for (let c = 0; c < copies; c++) {
          const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SECRET });
          const res = await fetch(`${dock.url}/webhooks/stripe`, {
            method: "POST",
            body,
            headers: { "stripe-signature": signature, "content-type": "application/json" },
          });
          if (res.status !== 200) sent.refused++;
        }
        sent.webhooks++;
      }
      if (n % 2 === 0) {
        // One transaction: 3 inserts, 1 update, 1 delete once there is something to delete.
        await db.query("BEGIN");
        const ins = await db.query("INSERT INTO public.orders (amount, note) SELECT g, 'soak' FROM generate_series(1, 3) g RETURNING id");
        orderIds.push(...ins.rows.map((r) => Number(r.id)));
        sent.cdcChanges += 3;
        const upd = orderIds[Math.floor(rand() * orderIds.length)];
        await db.query("UPDATE public.orders SET amount = amount + 1, updated_at = now() WHERE id = $1", [upd]);
        sent.cdcChanges += 1;
        if (orderIds.length > 20) {
          const del = orderIds.splice(Math.floor(rand() * orderIds.length), 1)[0];
          await db.query("DELETE FROM public.orders WHERE id = $1", [del]);
          sent.cdcChanges += 1;
        }
        await db.query("COMMIT");
      }
      if (Date.now() - lastTick > 20_000) {
        await tick();
        lastTick = Date.now();
      }
      await sleep(50);
    }
    say(`load done: ${events.length} events (${sent.dropped} dropped, ${sent.duplicated} sent twice), ${sent.cdcChanges} row changes`);

    // Let the vendor's events settle, reconcile the whole soak window, let everything drain.
    await tick();
    const from = new Date(events[0]?.created ? events[0].created * 1000 - 60_000 : Date.now() - 3_600_000).toISOString();
    const to = new Date().toISOString();
    const rec = await fetch(`${dock.url}/admin/sources/stripe/reconcile`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ from, to }),
    });
    say(`reconcile stripe ${from} → ${to}: HTTP ${rec.status} ${(await rec.text()).slice(0, 200)}`);
    let previous = -1;
    let stableFor = 0;
    for (let i = 0; i < 120 && stableFor < 3; i++) {
      await sleep(5000);
      const status = (await (await fetch(`${dock.url}/status`, { headers: admin })).json()) as { sources: { records: number }[] };
      const total = status.sources.reduce((a, s) => a + s.records, 0);
      stableFor = total === previous ? stableFor + 1 : 0;
      previous = total;
    }
    await sidecar.terminate();
    await sleep(3000);

    // Read back what landed, as a lake engine would.
    const lake = path.join(work, "lake");
    const pulled = await rawPull({ dir: lake, url: dock.url, token: ADMIN });
    say(`pulled ${pulled.pulled} raw objects`);
    const duck = await (await DuckDBInstance.create(":memory:")).connect();
    const rows = (
      await duck.runAndReadAll(
        `SELECT _dock.source AS source, _dock.stream AS stream, count(*) AS lines, count(DISTINCT _dock.id) AS ids, count(DISTINCT _dock.key) AS keys
         FROM read_json('${lake}/raw/**/*.jsonl.gz', format='newline_delimited', hive_partitioning=true, union_by_name=true, maximum_object_size=16777216)
         GROUP BY ALL ORDER BY ALL`,
      )
    ).getRowObjects() as { source: string; stream: string; lines: bigint; ids: bigint; keys: bigint }[];
    const get = (source: string, stream?: string) => rows.filter((r) => r.source === source && (!stream || r.stream === stream));
    const sum = (rs: typeof rows, k: "lines" | "ids" | "keys") => rs.reduce((a, r) => a + Number(r[k]), 0);

    const status = (await (await fetch(`${dock.url}/status`, { headers: admin })).json()) as Record<string, unknown>;
    const table = [
      { source: "stripe (webhooks + reconcile)", sent: events.length, ids: sum(get("stripe"), "ids"), lines: sum(get("stripe"), "lines") },
      {
        source: "app_db (CDC sidecar)",
        sent: sent.cdcChanges,
        ids: sum(
          get("app_db").filter((r) => !r.stream.endsWith("_schema")),
          "ids",
        ),
        lines: sum(get("app_db"), "lines"),
      },
      { source: "demo.items (poll)", sent: 1000, ids: sum(get("demo", "items"), "keys"), lines: sum(get("demo", "items"), "lines") },
    ];
    const missing = table.filter((t) => t.ids < t.sent);
    const leaks = scanForSecrets(
      [STRIPE_SECRET, CDC_SECRET, ADMIN, "sk_test_soak_reader", "demo-token-not-a-secret"],
      [dock.log(), readText(path.join(work, "sidecar.log")), ...listFiles(lake).map(readGz)],
    );
    const text = `
\`npm run soak -- --minutes ${MINUTES}\`: local \`wrangler dev\`, the demo vendor polled on the scheduler tick, the CDC
sidecar on a throwaway PostgreSQL 15, and a Stripe webhook sender dropping ${DROP * 100}% and duplicating ${DUPLICATE * 100}% of
deliveries; reconciliation of the soak window against a Stripe-shaped \`/v1/events\` at the end. Counted with DuckDB
over the raw zone pulled by \`dock raw pull\`'s code. demo.items counts distinct keys (each poll of a touched item is a
new version); the others count distinct \`_dock.id\`.

| source | sent / expected | distinct in raw | lines in raw | missing |
|---|---|---|---|---|
${table.map((t) => `| ${t.source} | ${t.sent} | ${t.ids} | ${t.lines} | ${Math.max(0, t.sent - t.ids)} |`).join("\n")}

Webhooks dropped on purpose: ${sent.dropped} (recovered only by reconciliation); sent twice: ${sent.duplicated}; refused: ${sent.refused}.
Raw objects pulled: ${pulled.pulled}. Reconciliation answer: HTTP ${rec.status}.

Freshness states at the end (\`GET /status\`): ${states(status)}.

Secrets scan of everything the soak logged (Worker, sidecar) and wrote (the whole pulled raw zone): ${leaks.length === 0 ? "none of the 5 secrets found" : `FOUND ${leaks.join(", ")}`}.
`;
    console.log(text);
    writeSection("Soak (end to end)", text);
    if (leaks.length > 0) {
      console.error(`secrets found in logs or the raw zone: ${leaks.join(", ")}`);
      process.exitCode = 1;
    }
    if (missing.length > 0) {
      const interesting = dock
        .log()
        .split("\n")
        .filter((l: string) => /error|failed|"source":"demo"/.test(l));
      console.error(interesting.slice(-40).join("\n"));
      console.error(`MISSING records: ${missing.map((m) => `${m.source} ${m.sent - m.ids}`).join(", ")}`);
      process.exitCode = 1;
    } else say("no record missing");
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {}
    }
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
