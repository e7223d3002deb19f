import { dispatch } from "../helpers/dispatch";

import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { fleetStatus, HOURS } from "../../src/ops/fleet";
import { setPaused } from "../../src/ops/controls";
import { aRun, clearOps, iso, polled, receivedHours } from "./seed";

const NOW = new Date();
const hooks = { name: "opshook", title: "t" };

describe("fleet status (is everything fine?)", () => {
  beforeEach(clearOps);

  it("given an empty system, then everything is fine", async () => {
    const fleet = await fleetStatus(env.DB, [], NOW);
    expect(fleet).toMatchObject({ ok: true, problems: [], streams: [], dlq: { ingest: 0, jobs: 0, files: 0 } });
  });

  it("given a busy webhook stream silent for 3 hours, then stale, with its records per hour in the 7-day series", async () => {
    const hours = Array.from({ length: 60 }, (_, i) => i + 3);
    await receivedHours(NOW, "opshook", "events", hours, 7);
    const fleet = await fleetStatus(env.DB, [hooks], NOW);
    const s = fleet.streams.find((x) => x.stream === "events");
    expect(s).toMatchObject({ source: "opshook", pattern: "webhook", state: "stale", records_total: 420, slo_seconds: 3600 });
    expect(s?.records_per_hour).toHaveLength(HOURS);
    expect(s?.records_per_hour.at(-1)).toBe(0);
    expect(s?.records_per_hour.at(-4)).toBe(7);
    expect(s?.records_per_hour.reduce((a, b) => a + b, 0)).toBe(420);
    expect(fleet.ok).toBe(false);
    expect(fleet.problems[0]).toContain("opshook.events is stale");
  });

  it("given a poll stream, when 3 runs in a row bring 0 records after runs that brought some, then zero-record; when one brings records, then fresh", async () => {
    for (const [records, ago] of [
      [20, 70],
      [18, 55],
      [25, 40],
      [0, 25],
      [0, 10],
    ] as const)
      await aRun(NOW, { source: "opspoll", stream: "items", records, minutesAgo: ago });
    expect((await fleetStatus(env.DB, [polled], NOW)).streams.find((s) => s.stream === "items")?.state).toBe("fresh");
    await aRun(NOW, { source: "opspoll", stream: "items", records: 0, minutesAgo: 1 });
    const zero = (await fleetStatus(env.DB, [polled], NOW)).streams.find((s) => s.stream === "items");
    expect(zero).toMatchObject({ state: "zero-record", pattern: "poll", slo_seconds: 1800, run_records: [0, 0, 0, 25, 18, 20] });
    await aRun(NOW, { source: "opspoll", stream: "items", records: 4, minutesAgo: 0 });
    expect((await fleetStatus(env.DB, [polled], NOW)).streams.find((s) => s.stream === "items")?.state).toBe("fresh");
  });

  it("given a failed run, then failing with its error; a paused source is paused; a full-refresh stream is judged on 2 days", async () => {
    await aRun(NOW, { source: "opspoll", stream: "items", records: 0, minutesAgo: 2, status: "failed", error: "HTTP 401 at page 1" });
    await aRun(NOW, { source: "opspoll", stream: "plans", records: 40, minutesAgo: 60 * 30, pattern: "full_refresh" });
    let fleet = await fleetStatus(env.DB, [polled], NOW);
    expect(fleet.streams.find((s) => s.stream === "items")).toMatchObject({
      state: "failing",
      last_run: { status: "failed", error: "HTTP 401 at page 1" },
    });
    expect(fleet.streams.find((s) => s.stream === "plans")).toMatchObject({
      state: "fresh",
      pattern: "full_refresh",
      slo_seconds: 2 * 86400,
    });
    await setPaused(env.DB, "opspoll", true, "test", "vendor maintenance");
    fleet = await fleetStatus(env.DB, [polled], NOW);
    expect(fleet.streams.map((s) => s.state)).toEqual(["paused", "paused"]);
    expect(fleet.ok).toBe(true);
  });

  it("given registry streams, then a scheduled one that never ran is late, an unconfigured one is not listed, and an on-demand one is judged by its records", async () => {
    await env.DB.prepare("INSERT INTO poll_schedule (source, stream, pattern, next_due_at) VALUES ('opspoll', 'items', 'poll', ?1)")
      .bind(NOW.toISOString())
      .run();
    await receivedHours(NOW, "opspoll", "plans", [1], 4, "poll");
    const ondemand = { ...polled, streams: [polled.streams[0], { ...polled.streams[1], fullRefresh: false }] } as typeof polled;
    const fleet = await fleetStatus(env.DB, [ondemand], NOW);
    expect(fleet.streams.map((s) => [s.stream, s.state, s.reason])).toEqual([
      ["items", "late", "no last successful run yet"],
      ["plans", "fresh", "last record 60m ago"],
    ]);
    expect((await fleetStatus(env.DB, [{ ...polled, name: "unconfigured" }], NOW)).streams.map((s) => s.source)).not.toContain(
      "unconfigured",
    );
  });

  it("given a declared SLO, then it overrides the pattern's default", async () => {
    await aRun(NOW, { source: "opspoll", stream: "items", records: 3, minutesAgo: 45 });
    expect((await fleetStatus(env.DB, [polled], NOW)).streams[0]?.state).toBe("late");
    await env.DB.prepare("INSERT INTO stream_slos VALUES ('opspoll', 'items', 60, 3, ?1)").bind(NOW.toISOString()).run();
    expect((await fleetStatus(env.DB, [polled], NOW)).streams[0]).toMatchObject({
      state: "fresh",
      slo_origin: "declared",
      slo_seconds: 3600,
    });
  });

  it("given a CDC sidecar report and parked dead letters, then the CDC streams follow the heartbeat and the DLQ depth counts", async () => {
    await receivedHours(NOW, "app_db", "public.orders", [30], 5, "cdc");
    await env.DB.prepare(
      "INSERT INTO sidecar_health (source, slot, state, slot_lag_bytes, wal_status, safe_wal_size, heartbeat_at, reported_at) VALUES ('app_db', 'loading_dock', 'streaming', 2048, 'reserved', 1000000, ?1, ?2)",
    )
      .bind(iso(NOW, 1), iso(NOW, 0.5))
      .run();
    await env.DB.prepare(
      "INSERT INTO dead_letters (id, queue, source, stream, body, attempts, parked_at) VALUES ('m1', 'ingest', 'app_db', 'public.orders', '{}', 10, ?1)",
    )
      .bind(NOW.toISOString())
      .run();
    const fleet = await fleetStatus(env.DB, [], NOW);
    expect(fleet.streams[0]).toMatchObject({ source: "app_db", stream: "public.orders", pattern: "cdc", state: "fresh", dlq: 1 });
    expect(fleet.sidecars[0]).toMatchObject({ slot: "loading_dock", condition: "ok", slot_lag_bytes: 2048 });
    expect(fleet.dlq.ingest).toBe(1);
    expect(fleet.ok).toBe(false);
    expect(fleet.problems).toContain("1 message(s) parked from the ingest queue's DLQ");
  });

  it("given the reconciler's ledger with a day of missing events, then it is a gap", async () => {
    const day = NOW.toISOString().slice(0, 10);
    await env.DB.prepare(
      "INSERT INTO reconcile_ledger (source, day, expected, received, recovered, missing, status, detail, updated_at) VALUES ('stripe', ?1, 10, 7, 1, 2, 'incomplete', '2 events listed without payload', ?2)",
    )
      .bind(day, NOW.toISOString())
      .run();
    await env.DB.prepare(
      "INSERT INTO reconcile_ledger (source, day, expected, received, recovered, missing, status, updated_at) VALUES ('github', ?1, 5, 5, 0, 0, 'complete', ?2)",
    )
      .bind(day, NOW.toISOString())
      .run();
    const fleet = await fleetStatus(env.DB, [], NOW);
    expect(fleet.gaps).toEqual([
      { source: "stripe", stream: null, day, missing: 2, status: "incomplete", detail: "2 events listed without payload" },
    ]);
    expect(fleet.ok).toBe(false);
  });

  it("given GET /status, then it keeps its earlier fields and adds the freshness answer", async () => {
    await receivedHours(NOW, "opshook", "events", [0], 3);
    const res = await dispatch(new Request("https://dock.example/status", { headers: { authorization: "Bearer test-admin-token" } }));
    const body = (await res.json()) as Record<string, unknown>;
    for (const k of ["generated_at", "sources", "recent_runs", "ok", "problems", "streams", "sidecars", "dlq", "gaps"])
      expect(body, k).toHaveProperty(k);
    expect((body.streams as { source: string; state: string }[]).find((s) => s.source === "opshook")?.state).toBe("fresh");
  });
});
