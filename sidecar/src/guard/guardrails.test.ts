import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../../src/lib/log";
import { startHealthServer } from "../health/health-server";
import { parseLsn } from "../lsn";
import { Sidecar } from "../sidecar";
import { PgCluster } from "../../test/helpers/pg-cluster";
import { sidecarConfig, sidecarEnv, waitFor } from "../../test/helpers/sidecar-env";
import { SidecarProcess } from "../../test/helpers/sidecar-process";
import { confirmedFlush } from "../../test/helpers/wal-probe";
import { WebhookSink } from "../../test/helpers/webhook-sink";

describe("guardrails (real PostgreSQL 15)", () => {
  let cluster: PgCluster;

  beforeAll(async () => {
    setLogSink(() => {});
    cluster = await PgCluster.start({ maxSlotWalKeepSize: "16MB" });
    await cluster.sql("CREATE TABLE quiet (id int PRIMARY KEY); CREATE TABLE busy (id int, pad text)");
  });
  afterAll(() => {
    cluster?.stop();
    setLogSink(undefined);
  });

  it("given a quiet publication and a busy database, when heartbeats run, then the slot keeps moving and /healthz and /metrics report lag, wal_status and safe_wal_size", async () => {
    const sink = await new WebhookSink().start();
    const sidecar = new Sidecar(
      sidecarConfig(cluster, sink, {
        CDC_SLOT: "hb",
        CDC_PUBLICATION: "hb_pub",
        CDC_TABLES: "public.quiet",
        CDC_HEARTBEAT_MS: "200",
        CDC_SLOT_CHECK_MS: "200",
      }),
    );
    await sidecar.start();
    let server: Server | null = null;
    try {
      server = await startHealthServer("127.0.0.1", 0, () => sidecar.metrics);
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      await cluster.sql("INSERT INTO busy SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g");
      const written = parseLsn((await cluster.sql("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l);
      await waitFor("the slot past the busy writes", async () => (await confirmedFlush(cluster, "hb")) >= written, 20_000);
      await waitFor("heartbeats decoded", () => sidecar.metrics.heartbeats_seen > 0 && sidecar.metrics.slot_wal_status !== null);
      expect(sidecar.metrics.heartbeats_sent).toBeGreaterThan(0);
      // Heartbeats are kept out of the raw zone.
      expect(sink.records.filter((r) => r.stream !== "public.quiet._schema")).toEqual([]);

      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      const body = (await health.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ ok: true, state: "streaming", slot: "hb", slot_wal_status: "reserved" });
      expect(typeof body.slot_lag_bytes).toBe("number");
      expect(typeof body.slot_safe_wal_size).toBe("number");
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^loading_dock_cdc_slot_lag_bytes\{slot="hb",source="app_db"\} \d+$/m);
      expect(metrics).toMatch(/^loading_dock_cdc_slot_safe_wal_size_bytes\{slot="hb",source="app_db"\} \d+$/m);
      expect(metrics).toContain('loading_dock_cdc_slot_wal_status{slot="hb",source="app_db",status="reserved"} 1');
      expect(metrics).toMatch(/^loading_dock_cdc_heartbeats_seen_total\{slot="hb",source="app_db"\} [1-9]\d*$/m);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      server?.close();
      await sidecar.stop();
      await sink.stop();
    }
  });

  // Its waits add up to 3 minutes on a loaded machine (alone it takes about 15 s).
  it("given the Worker down and the socket paused, when the slot falls behind max_slot_wal_keep_size, then the sidecar lets go so the checkpoint can invalidate it, stops with a clear error, and the documented recovery (drop slot, delete state, restart) re-snapshots", {
    timeout: 240_000,
  }, async () => {
    const sink = await new WebhookSink().start();
    const dir = mkdtempSync(path.join(tmpdir(), "dock-inval-"));
    const env = sidecarEnv(cluster, sink, {
      CDC_SLOT: "doomed",
      CDC_PUBLICATION: "doomed_pub",
      CDC_TABLES: "public.busy",
      CDC_SNAPSHOT: "true",
      CDC_STATE_FILE: path.join(dir, "state.json"),
      // One small batch in flight: the socket is surely paused while the Worker is down.
      CDC_MAX_IN_FLIGHT: "1",
      CDC_BATCH_MAX_RECORDS: "100",
      CDC_MAX_PAUSE_MS: "2000",
    });
    const log = path.join(dir, "sidecar.log");
    const proc = new SidecarProcess(env, log);
    let again: SidecarProcess | undefined;
    try {
      await waitFor(
        "the slot",
        async () => (await cluster.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'doomed' AND active")).rowCount === 1,
      );
      // The Worker is down: nothing is confirmed while WAL piles up past the slot's allowance.
      sink.failWith = () => 503;
      for (let i = 0; i < 4; i++) {
        await cluster.sql("INSERT INTO busy SELECT g, repeat('y', 500) FROM generate_series(1, 20000) g");
        await cluster.sql("SELECT pg_switch_wal()");
      }
      // The checkpoint must end the walsender to invalidate the slot; a sidecar that never read its
      // socket again would block it (and every later checkpoint) for as long as the Worker is down.
      const checkpoint = await Promise.race([
        cluster.sql("CHECKPOINT").then(() => "done"),
        new Promise<string>((r) => setTimeout(() => r("still blocked after 30 s"), 30_000)),
      ]);
      expect(checkpoint).toBe("done");
      const code = await Promise.race([proc.exited, new Promise<string>((r) => setTimeout(() => r("still running"), 60_000))]);
      expect(code).toBe(1);
      const status = (await cluster.sql("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'doomed'")).rows[0];
      expect(status).toEqual({ wal_status: "lost" });
      const fatal = readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { event: string; error?: string })
        .find((l) => l.event === "cdc.fatal");
      expect(fatal?.error).toContain('replication slot "doomed" is invalidated');
      expect(fatal?.error).toContain("pg_drop_replication_slot('doomed')");

      // Recovery as documented: drop the slot, delete the state file, start again.
      await cluster.sql("SELECT pg_drop_replication_slot('doomed')");
      rmSync(path.join(dir, "state.json"), { force: true });
      sink.failWith = null;
      const rows = Number((await cluster.sql("SELECT count(*) FROM busy")).rows[0].count);
      again = new SidecarProcess(env, log);
      await waitFor(
        "re-snapshot done",
        () => existsSync(path.join(dir, "state.json")) && JSON.parse(readFileSync(path.join(dir, "state.json"), "utf8")).phase === "done",
        90_000,
      );
      expect(await again.terminate()).toBe(0);
      expect(sink.records.filter((r) => r.dock.op === "snapshot").length).toBeGreaterThanOrEqual(rows);
    } catch (err) {
      // What the sidecar said is the first thing anyone reading this failure needs.
      const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-40).join("\n") : "(no sidecar log)";
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- sidecar log, last lines ---\n${tail}`);
    } finally {
      // A failed run must not leave sidecars streaming beside the rest of the suite.
      proc.child.kill("SIGKILL");
      again?.child.kill("SIGKILL");
      await sink.stop();
    }
  });
});
