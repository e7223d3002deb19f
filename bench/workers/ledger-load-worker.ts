import type { RecordBundle } from "../../src/envelope/bundle";
import { dockId } from "../../src/envelope/dock-id";
import { envelopeLine } from "../../src/envelope/envelope";
import { type LedgerEnv, recordLedger } from "../../src/ledger";
import { writeBundles } from "../../src/queue-consumers/raw-writer";

export { LedgerShard } from "../../src/ledger/ledger-shard";

interface DriverEnv extends LedgerEnv {
  RAW: R2Bucket;
}

interface Meter {
  d1RoundTrips: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  d1Statements: number;
}

/** D1 that counts round trips (a batch() is one) and sums the rows read and written D1 reports for each statement. */
function meteredD1(db: D1Database, m: Meter): D1Database {
  const add = (results: D1Result[]) => {
    for (const r of results) {
      m.d1Statements++;
      m.d1RowsRead += r.meta?.rows_read ?? 0;
      m.d1RowsWritten += r.meta?.rows_written ?? 0;
    }
    return results;
  };
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "batch")
        return async (stmts: D1PreparedStatement[]) => {
          m.d1RoundTrips++;
          return add(await value.call(target, stmts));
        };
      if (prop === "prepare")
        return (sql: string) => {
          const stmt = value.call(target, sql) as D1PreparedStatement;
          const wrap = (st: D1PreparedStatement): D1PreparedStatement =>
            new Proxy(st, {
              get(t, p) {
                const v = Reflect.get(t, p, t);
                if (p === "bind") return (...args: unknown[]) => wrap(v.apply(t, args));
                if (p === "all" || p === "run")
                  return async () => {
                    m.d1RoundTrips++;
                    return add([await v.call(t)])[0];
                  };
                if (p === "first" || p === "raw")
                  return (...args: unknown[]) => {
                    m.d1RoundTrips++;
                    return v.apply(t, args);
                  };
                return typeof v === "function" ? v.bind(t) : v;
              },
            });
          return wrap(stmt);
        };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function webhookBundle(n: number, receivedAt: string): Promise<RecordBundle> {
  const key = `meter-${String(n).padStart(9, "0")}`;
  const id = await dockId("acme", "meter", key, key);
  const body = `{"id":"${key}","type":"order.paid","data":{"order":"ord_${key}","amount":4200,"currency":"eur","note":"a typical small partner event"}}`;
  const meta = {
    id,
    source: "acme",
    stream: "meter",
    pattern: "webhook" as const,
    key,
    version: key,
    op: "event" as const,
    received_at: receivedAt,
    run_id: "meter",
  };
  return {
    kind: "bundle",
    v: 1,
    source: "acme",
    stream: "meter",
    pattern: "webhook",
    received_at: receivedAt,
    records: [{ id, line: envelopeLine(meta, { json: body }), receipt: key }],
  };
}

/**
 * POST /load/meter?batches=n — the raw writer (the consumer's own writeBundles, with the ledger the
 * Worker's vars choose) over n webhook-shaped batches (100 messages × 1 envelope, stream acme/meter),
 * then the same batches again (all repeats); answers, for each pass, D1 round trips, statements and
 * the rows D1 reports read and written, and the ledger's own counters (round trips; calls: one per
 * shard touched, plus the D1 batch the sharded ledger sends beside its shard calls).
 */
async function meter(env: DriverEnv, url: URL): Promise<Response> {
  const batches = Number(url.searchParams.get("batches") ?? "20");
  const receivedAt = new Date().toISOString();
  const prepared: RecordBundle[][] = [];
  for (let b = 0; b < batches; b++)
    prepared.push(await Promise.all(Array.from({ length: 100 }, (_, i) => webhookBundle(b * 100 + i, receivedAt))));
  const passes: (Meter & { written: number; duplicates: number; ms: number; ledgerRoundTrips: number; ledgerCalls: number })[] = [];
  // The repeats come in other batches than the first time (shifted by half a batch): a batch replayed as it was is a
  // retry, which the sharded ledger lets rewrite its own object.
  const flat = prepared.flat();
  const shifted = Array.from({ length: batches }, (_, b) => [
    ...flat.slice(b * 100 + 50, b * 100 + 150),
    ...(b === batches - 1 ? flat.slice(0, 50) : []),
  ]);
  for (const pass of ["fresh", "repeat"]) {
    const m: Meter = { d1RoundTrips: 0, d1RowsRead: 0, d1RowsWritten: 0, d1Statements: 0 };
    const writerEnv = { ...env, DB: meteredD1(env.DB, m) };
    const ledger = recordLedger(writerEnv);
    let written = 0;
    let duplicates = 0;
    const started = Date.now();
    for (const bundles of pass === "fresh" ? prepared : shifted) {
      const summary = await writeBundles(writerEnv, bundles, { retentionHours: 96, ledger });
      written += summary.written;
      duplicates += summary.duplicates;
    }
    const ms = Date.now() - started;
    passes.push({ ...m, written, duplicates, ms, ledgerRoundTrips: ledger.counters.roundTrips, ledgerCalls: ledger.counters.calls });
  }
  const storage = await recordLedger(env).storage();
  return Response.json({ batches, records: batches * 100, ledger: recordLedger(env).kind, fresh: passes[0], repeat: passes[1], storage });
}

export default {
  async fetch(request: Request, env: DriverEnv): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/load/meter") return meter(env, url);
    if (url.pathname === "/healthz") return Response.json({ ok: true });
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<DriverEnv>;
