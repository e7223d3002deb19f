import { env } from "cloudflare:workers";
import { defineSource } from "../../src/sources/define-source";

/** Operations tests seed D1 the way the engines write it; every test starts from empty tables. */
export async function clearOps(): Promise<void> {
  const tables = [
    "runs",
    "stream_stats",
    "raw_objects",
    "alert_state",
    "dead_letters",
    "sidecar_health",
    "source_controls",
    "stream_slos",
    "admin_audit",
    "cursors",
    "poll_schedule",
  ];
  await env.DB.batch(tables.map((t) => env.DB.prepare(`DELETE FROM ${t}`)));
  const ledger = await env.DB.prepare("SELECT 1 FROM sqlite_master WHERE name = 'reconcile_ledger'").first();
  if (ledger) await env.DB.prepare("DELETE FROM reconcile_ledger").run();
}

export const iso = (now: Date, minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000).toISOString();

let runCounter = 0;
/** A finished run as the poll engine leaves it. */
export async function aRun(
  now: Date,
  o: {
    source: string;
    stream: string;
    records: number;
    minutesAgo: number;
    status?: "succeeded" | "failed" | "running";
    error?: string;
    pattern?: string;
  },
): Promise<string> {
  const id = `run-${++runCounter}-${o.source}`;
  const finished = iso(now, o.minutesAgo);
  await env.DB.prepare(
    "INSERT INTO runs (id, source, stream, pattern, status, started_at, finished_at, records, pages, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9)",
  )
    .bind(
      id,
      o.source,
      o.stream,
      o.pattern ?? "poll",
      o.status ?? "succeeded",
      iso(now, o.minutesAgo + 1),
      o.status === "running" ? null : finished,
      o.records,
      o.error ?? null,
    )
    .run();
  return id;
}

/** Records written for a stream in each of the given hours ago (raw_objects + stream_stats, as the raw writer keeps them). */
export async function receivedHours(now: Date, source: string, stream: string, hoursAgo: number[], perHour = 10, pattern = "webhook") {
  const statements = hoursAgo.map((h, i) =>
    env.DB.prepare(
      "INSERT INTO raw_objects (key, source, stream, pattern, records, bytes, written_at) VALUES (?1, ?2, ?3, ?4, ?5, 100, ?6)",
    ).bind(`raw/source=${source}/stream=${stream}/k${i}-${h}`, source, stream, pattern, perHour, iso(now, h * 60)),
  );
  const last = iso(now, Math.min(...hoursAgo) * 60);
  const first = iso(now, Math.max(...hoursAgo) * 60);
  statements.push(
    env.DB.prepare(
      `INSERT INTO stream_stats (source, stream, records, objects, bytes, first_received_at, last_received_at, last_written_at)
       VALUES (?1, ?2, ?3, ?4, 100, ?5, ?6, ?6)
       ON CONFLICT (source, stream) DO UPDATE SET records = records + excluded.records, last_received_at = max(last_received_at, excluded.last_received_at)`,
    ).bind(source, stream, perHour * hoursAgo.length, hoursAgo.length, first, last),
  );
  await env.DB.batch(statements);
}

/** A polled source of the shape the registry holds, local to the tests. */
export const polled = defineSource({
  name: "opspoll",
  title: "ops test poll source",
  baseUrl: "https://vendor.example",
  streams: [
    {
      name: "items",
      path: "/items",
      records: "data",
      primaryKey: "id",
      cursor: { kind: "updated_at", field: "updated_at", param: "since", format: "unix" },
      pagination: { style: "none" },
      intervalMinutes: 15,
    },
    {
      name: "plans",
      path: "/plans",
      records: "data",
      primaryKey: "id",
      pagination: { style: "none" },
      intervalMinutes: 0,
      fullRefresh: true,
    },
  ],
});
