import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { statusJsonSchema, statusSchema } from "../../src/ops/status-schema";
import { dispatch } from "../helpers/dispatch";
import { aRun, clearOps, iso, receivedHours } from "./seed";

const admin = { authorization: "Bearer test-admin-token" };
const get = (path: string) => dispatch(new Request(`https://dock.example${path}`, { headers: admin }));

/** Every key of every object in a JSON value, with where it is. */
function keysOf(value: unknown, at = "$"): { key: string; at: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keysOf(v, `${at}[${i}]`));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => [{ key: k, at: `${at}.${k}` }, ...keysOf(v, `${at}.${k}`)]);
  return [];
}

describe("GET /status: one shape, published, without internal state", () => {
  beforeEach(clearOps);

  it("given streams, runs with internal state, a sidecar, a dead letter and a gap, when GET /status is asked, then the answer validates against the strict zod schema, every key is snake_case and no run state or lease leaks", async () => {
    const now = new Date();
    await receivedHours(now, "opshook", "events", [0, 2], 3);
    await receivedHours(now, "app_db", "public.orders", [1], 5, "cdc");
    const runId = await aRun(now, { source: "opspoll", stream: "items", records: 7, minutesAgo: 3 });
    // What the poll engine keeps on a run: page tokens and cursors for its continuation.
    await env.DB.prepare("UPDATE runs SET state = ?2, cursor_from = 'cursor-internal-1', cursor_to = 'cursor-internal-2' WHERE id = ?1")
      .bind(runId, JSON.stringify({ v: 1, next: { token: "page-token-internal" } }))
      .run();
    await env.DB.prepare(
      "INSERT INTO poll_schedule (source, stream, pattern, next_due_at, active_run_id, heartbeat_at) VALUES ('opspoll', 'items', 'poll', ?1, 'lease-holder-run', ?1)",
    )
      .bind(now.toISOString())
      .run();
    await env.DB.prepare(
      "INSERT INTO sidecar_health (source, slot, state, slot_lag_bytes, wal_status, safe_wal_size, heartbeat_at, durable_lsn, reported_at) VALUES ('app_db', 'loading_dock', 'streaming', 2048, 'reserved', 1000000, ?1, '0/16B3748', ?2)",
    )
      .bind(iso(now, 1), iso(now, 0.5))
      .run();
    await env.DB.prepare(
      "INSERT INTO dead_letters (id, queue, source, stream, body, attempts, parked_at) VALUES ('shape-1', 'jobs', 'opspoll', 'items', '{}', 5, ?1)",
    )
      .bind(now.toISOString())
      .run();
    await env.DB.prepare(
      "INSERT INTO reconcile_ledger (source, day, expected, received, recovered, missing, status, detail, updated_at) VALUES ('stripe', ?1, 10, 8, 0, 2, 'incomplete', 'two missing', ?2)",
    )
      .bind(now.toISOString().slice(0, 10), now.toISOString())
      .run();

    const res = await get("/status");
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;

    const parsed = statusSchema.safeParse(body);
    expect(parsed.error?.issues ?? []).toEqual([]);
    const odd = keysOf(body).filter(({ key, at }) => !/^[a-z][a-z0-9_]*$/.test(key) && !at.startsWith("$.dlq."));
    expect(odd).toEqual([]);
    for (const internal of ["page-token-internal", "cursor-internal", "lease-holder-run"]) expect(text).not.toContain(internal);
    expect((body.recent_runs as Record<string, unknown>[])[0]).toEqual({
      id: runId,
      source: "opspoll",
      stream: "items",
      pattern: "poll",
      status: "succeeded",
      started_at: iso(now, 4),
      finished_at: iso(now, 3),
      records: 7,
      error: null,
    });
    expect((body.sidecars as Record<string, unknown>[])[0]).toMatchObject({
      source: "app_db",
      slot: "loading_dock",
      condition: "ok",
      slot_lag_bytes: 2048,
      wal_status: "reserved",
      safe_wal_size: 1000000,
      durable_lsn: "0/16B3748",
    });
  });

  it("given GET /status/schema, then it is the JSON Schema generated from the zod schema, naming every top-level field and the stream fields, behind the admin token", async () => {
    expect((await dispatch(new Request("https://dock.example/status/schema"))).status).toBe(401);
    const res = await get("/status/schema");
    expect(res.status).toBe(200);
    const schema = (await res.json()) as {
      $schema: string;
      type: string;
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { items?: { required?: string[] } }>;
    };
    expect(schema).toEqual(JSON.parse(JSON.stringify(statusJsonSchema())));
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.additionalProperties).toBe(false);
    expect([...schema.required].sort()).toEqual(
      [
        "ok",
        "generated_at",
        "problems",
        "streams",
        "sidecars",
        "dlq",
        "gaps",
        "not_configured",
        "sources",
        "recent_runs",
        "reconciliation",
      ].sort(),
    );
    expect(schema.properties.streams?.items?.required).toEqual(
      expect.arrayContaining(["source", "stream", "state", "reason", "lag_seconds", "last_run", "records_per_hour"]),
    );
    expect(schema.properties.sidecars?.items?.required).toEqual(expect.arrayContaining(["slot_lag_bytes", "wal_status", "heartbeat_at"]));
  });

  it("given a source whose variables are unset, then GET /status names it under not_configured with the variables to set, never a value", async () => {
    const res = await get("/status");
    const body = (await res.json()) as { not_configured: { source: string; error: string; missing: string[] }[] };
    const demo = body.not_configured.find((s) => s.source === "demo");
    expect(demo?.missing).toEqual(expect.arrayContaining(["DEMO_VENDOR_URL"]));
    expect(demo?.error).toContain("set DEMO_VENDOR_URL");
    // Configured in the test bindings: its webhook secret is set, so it is not listed for that.
    expect(body.not_configured.find((s) => s.source === "stripe")?.missing ?? []).not.toContain("STRIPE_WEBHOOK_SECRET");
    expect(JSON.stringify(body.not_configured)).not.toContain("whsec_test_stripe_secret");
  });
});
