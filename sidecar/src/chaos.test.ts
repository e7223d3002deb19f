import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgCluster } from "../test/helpers/pg-cluster";
import { sidecarEnv, waitFor } from "../test/helpers/sidecar-env";
import { SidecarProcess } from "../test/helpers/sidecar-process";
import { WebhookSink } from "../test/helpers/webhook-sink";

/** Writes random transactions and remembers exactly what committed. */
class Writer {
  inserted = new Set<number>();
  updates = new Set<string>();
  deleted = new Set<number>();
  private live: number[] = [];
  private nextId = 1;
  private token = 0;
  private running = false;
  private loop: Promise<void> | null = null;
  constructor(private readonly connect: () => Promise<pg.Client>) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async pause(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    const db = await this.connect();
    try {
      while (this.running) {
        const ops = 1 + Math.floor(Math.random() * 40);
        const ins: number[] = [];
        const upd: string[] = [];
        const del: number[] = [];
        const live = [...this.live];
        await db.query("BEGIN");
        for (let i = 0; i < ops; i++) {
          const r = Math.random();
          if (r < 0.6 || live.length < 5) {
            const id = this.nextId++;
            await db.query("INSERT INTO events VALUES ($1, $2)", [id, `i${id}`]);
            ins.push(id);
            live.push(id);
          } else if (r < 0.85) {
            const id = live[Math.floor(Math.random() * live.length)] as number;
            const v = `u${this.token++}`;
            await db.query("UPDATE events SET v = $2 WHERE id = $1", [id, v]);
            upd.push(v);
          } else {
            const id = live.splice(Math.floor(Math.random() * live.length), 1)[0] as number;
            await db.query("DELETE FROM events WHERE id = $1", [id]);
            del.push(id);
          }
        }
        await db.query("COMMIT");
        for (const id of ins) this.inserted.add(id);
        for (const v of upd) this.updates.add(v);
        for (const id of del) this.deleted.add(id);
        this.live = live;
        await new Promise((r) => setTimeout(r, Math.random() * 10));
      }
    } finally {
      await db.end();
    }
  }
}

describe("kill -9 and a Postgres crash (real PostgreSQL 15, sidecar as a child process)", () => {
  let cluster: PgCluster;
  let sink: WebhookSink;
  const logFile = path.join(mkdtempSync(path.join(tmpdir(), "dock-chaos-")), "sidecar.log");

  beforeAll(async () => {
    cluster = await PgCluster.start();
    sink = await new WebhookSink().start();
    await cluster.sql("CREATE TABLE events (id bigint PRIMARY KEY, v text)");
  });
  afterAll(async () => {
    await sink?.stop();
    cluster?.stop();
  });

  it("given 20 runs killed with SIGKILL at random points and one immediate-mode Postgres crash, when the sidecar finally drains, then no committed change is lost and duplicates collapse by _dock.id", {
    timeout: 300_000,
  }, async () => {
    const env = sidecarEnv(cluster, sink, { CDC_TABLES: "public.events", CDC_BATCH_MAX_RECORDS: "50", CDC_MAX_IN_FLIGHT: "3" });
    // Some deliveries fail too, so kills also land while retries are pending.
    sink.failWith = () => (Math.random() < 0.1 ? 503 : undefined);
    const writer = new Writer(() => cluster.client());
    let kills = 0;
    for (let run = 0; run < 20; run++) {
      const proc = new SidecarProcess(env, logFile);
      if (run === 0) {
        // Changes count from the slot's creation on (earlier rows are the snapshot's job).
        await waitFor(
          "the slot",
          async () => (await cluster.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'dock_test'")).rowCount === 1,
        );
        writer.start();
      }
      const before = sink.records.length;
      // Kill at a random point, but only once this run has delivered something, so every run matters.
      await waitFor(`run ${run} delivering`, () => sink.records.length > before, 60_000);
      await new Promise((r) => setTimeout(r, Math.random() * 700));
      if (run === 10) {
        await writer.pause();
        cluster.crash();
        await new Promise((r) => setTimeout(r, 300));
        cluster.restart();
        writer.start();
        await waitFor("delivering after the crash", () => sink.records.length > before + 50, 60_000);
      }
      await proc.kill9();
      kills++;
    }
    await writer.pause();
    sink.failWith = null;
    const final = new SidecarProcess(env, logFile);
    const expected = writer.inserted.size + writer.updates.size + writer.deleted.size;
    await waitFor("every committed change", () => sink.unique("public.events").length >= expected, 60_000).catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    expect(await final.terminate()).toBe(0);

    const unique = sink.unique("public.events");
    const inserted = new Set(unique.filter((r) => r.dock.op === "insert").map((r) => Number(r.dock.key)));
    const updates = new Set(unique.filter((r) => r.dock.op === "update").map((r) => r.data?.v));
    const deleted = new Set(unique.filter((r) => r.dock.op === "delete").map((r) => Number(r.dock.key)));
    expect(kills).toBe(20);
    expect(expected).toBeGreaterThan(500);
    expect([...writer.inserted].filter((id) => !inserted.has(id))).toEqual([]);
    expect([...writer.updates].filter((v) => !updates.has(v))).toEqual([]);
    expect([...writer.deleted].filter((id) => !deleted.has(id))).toEqual([]);
    // Deduplicated by _dock.id, exactly one record per committed change remains.
    expect(unique.length).toBe(expected);
    const duplicates = sink.records.filter((r) => r.stream === "public.events").length - unique.length;
    console.log(`chaos: ${expected} changes, ${duplicates} duplicates removed by _dock.id, ${sink.failed} deliveries refused with 503`);
    expect(duplicates).toBeGreaterThanOrEqual(0);
  });
});
