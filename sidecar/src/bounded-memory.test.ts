import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgCluster } from "../test/helpers/pg-cluster";
import { sidecarEnv, waitFor } from "../test/helpers/sidecar-env";
import { SidecarProcess } from "../test/helpers/sidecar-process";
import { WebhookSink } from "../test/helpers/webhook-sink";

describe("a 700,000-row transaction (real PostgreSQL 15, sidecar as a child process)", () => {
  let cluster: PgCluster;
  let sink: WebhookSink;

  beforeAll(async () => {
    cluster = await PgCluster.start();
    sink = await new WebhookSink().start();
    sink.idsOnly = true;
    await cluster.sql("CREATE TABLE wide (id bigint PRIMARY KEY, payload text, n numeric)");
  });
  afterAll(async () => {
    await sink?.stop();
    cluster?.stop();
  });

  it("given a slow sink, when one transaction inserts 700,000 rows, then they stream through in batches with the socket paused and peak RSS under 256 MB", {
    timeout: 600_000,
  }, async () => {
    const logFile = path.join(mkdtempSync(path.join(tmpdir(), "dock-mem-")), "sidecar.log");
    const env = sidecarEnv(cluster, sink, {
      CDC_TABLES: "public.wide",
      CDC_BATCH_MAX_RECORDS: "5000",
      CDC_MAX_IN_FLIGHT: "2",
    });
    const proc = new SidecarProcess(env, logFile);
    await waitFor(
      "the slot",
      async () => (await cluster.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'dock_test' AND active")).rowCount === 1,
    );
    sink.delayMs = 20;
    await cluster.sql("INSERT INTO wide SELECT g, repeat(md5(g::text), 4), g * 1.5 FROM generate_series(1, 700000) g");
    let peak = 0;
    await waitFor(
      "700,000 records",
      () => {
        peak = Math.max(peak, proc.peakRss());
        return sink.ids.size >= 700_000;
      },
      500_000,
    );
    peak = Math.max(peak, proc.peakRss());
    expect(await proc.terminate()).toBe(0);
    console.log(`700k-row transaction: peak RSS ${(peak / 1048576).toFixed(1)} MB, ${sink.deliveries} deliveries`);
    expect(sink.ids.size).toBe(700_000 + 1); // + the table's schema record
    expect(sink.deliveries).toBeGreaterThanOrEqual(140);
    expect(peak).toBeLessThan(256 * 1024 * 1024);
  });
});
