import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../../src/lib/log";
import { Sidecar } from "../sidecar";
import { PgCluster } from "../../test/helpers/pg-cluster";
import { sidecarConfig, sidecarEnv, waitFor } from "../../test/helpers/sidecar-env";
import { SidecarProcess } from "../../test/helpers/sidecar-process";
import { WebhookSink } from "../../test/helpers/webhook-sink";

describe("initial snapshot then stream (real PostgreSQL 15)", () => {
  let cluster: PgCluster;

  beforeAll(async () => {
    setLogSink(() => {});
    cluster = await PgCluster.start();
    await cluster.sql(`
      CREATE TABLE customers (id int PRIMARY KEY, name text, score bigint);
      INSERT INTO customers SELECT g, 'c' || g, g * 10 FROM generate_series(1, 3000) g;
      CREATE TABLE pairs (a int, b text, v text, PRIMARY KEY (a, b));
      INSERT INTO pairs SELECT g % 7, 'k' || g, 'v' || g FROM generate_series(1, 500) g;
      CREATE TABLE loose (note text);
      INSERT INTO loose SELECT 'n' || g FROM generate_series(1, 120) g;`);
  });
  afterAll(() => {
    cluster?.stop();
    setLogSink(undefined);
  });

  it("given existing rows and writes racing the copy, when a new slot is created, then every existing row is copied once as of the slot's snapshot and every later change streams once", async () => {
    const sink = await new WebhookSink().start();
    sink.delayMs = 15;
    const sidecar = new Sidecar(
      sidecarConfig(cluster, sink, {
        CDC_SLOT: "seam",
        CDC_PUBLICATION: "seam_pub",
        CDC_TABLES: "public.customers,public.pairs,public.loose",
        CDC_SNAPSHOT: "true",
        CDC_SNAPSHOT_CHUNK_ROWS: "100",
      }),
    );
    await sidecar.start();
    // These land after the slot's consistent point, while the copy is still running.
    await cluster.sql("UPDATE customers SET name = 'changed' WHERE id IN (1, 2999)");
    await cluster.sql("DELETE FROM customers WHERE id = 1500");
    await cluster.sql("INSERT INTO customers VALUES (5000, 'new', 1)");
    await cluster.sql("INSERT INTO loose VALUES ('late')");
    const copyStillRunning = sidecar.metrics.snapshot_done === false;
    await waitFor("the copy done", () => sidecar.metrics.snapshot_done === true, 60_000);
    await waitFor(
      "the 5 changes",
      () => sink.unique().filter((r) => r.dock.op !== "snapshot" && !r.stream.endsWith("._schema")).length >= 5,
    );
    await sidecar.stop();
    await sink.stop();

    expect(copyStillRunning).toBe(true);
    const snap = sink.unique("public.customers").filter((r) => r.dock.op === "snapshot");
    expect(snap.length).toBe(3000);
    expect(new Set(snap.map((r) => r.dock.key)).size).toBe(3000);
    // The copy is the state at the consistent point: racing writes are not in it.
    expect(snap.find((r) => r.dock.key === "1")?.data).toEqual({ id: "1", name: "c1", score: "10" });
    expect(snap.some((r) => r.dock.key === "1500")).toBe(true);
    expect(snap.some((r) => r.dock.key === "5000")).toBe(false);
    const changes = sink.unique("public.customers").filter((r) => r.dock.op !== "snapshot");
    expect(changes.map((r) => [r.dock.op, r.dock.key])).toEqual([
      ["update", "1"],
      ["update", "2999"],
      ["delete", "1500"],
      ["insert", "5000"],
    ]);
    const pairs = sink.unique("public.pairs");
    expect(pairs.length).toBe(500);
    expect(pairs[0]?.dock.key).toMatch(/^\["\d","k\d+"\]$/);
    const loose = sink.unique("public.loose");
    expect(loose.filter((r) => r.dock.op === "snapshot").length).toBe(120);
    expect(loose.filter((r) => r.dock.op === "insert").map((r) => r.data)).toEqual([{ note: "late" }]);
    // Snapshot and stream share one LSN axis (`lsn` is the slot's consistent point), but never a version.
    expect(snap[0]?.dock.version).toBe(`snapshot:${snap[0]?.dock.lsn}`);
    expect(String(snap[0]?.dock.lsn)).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  });

  it("given a row deleted at the moment the slot becomes consistent, when the copy holds the row and the stream holds its delete at the very same LSN, then the two get different ids and both land", {
    timeout: 60_000,
  }, async () => {
    await cluster.sql(
      "CREATE TABLE at_seam (id int PRIMARY KEY, v text); INSERT INTO at_seam SELECT g, 'v' || g FROM generate_series(1, 10) g",
    );
    const sink = await new WebhookSink().start();
    const deleter = await cluster.client();
    const sidecar = new Sidecar(
      sidecarConfig(cluster, sink, { CDC_SLOT: "meet", CDC_PUBLICATION: "meet_pub", CDC_TABLES: "public.at_seam", CDC_SNAPSHOT: "true" }),
    );
    try {
      const starting = sidecar.start();
      // The slot is consistent once it has a confirmed_flush_lsn; on an otherwise idle cluster the
      // next WAL record (the delete's) starts exactly there, and the exported snapshot still holds the row.
      for (;;) {
        const res = await deleter.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'meet' AND confirmed_flush_lsn IS NOT NULL");
        if (res.rowCount) break;
      }
      await deleter.query("DELETE FROM at_seam WHERE id = 5");
      await starting;
      await waitFor("the copy done", () => sidecar.metrics.snapshot_done === true);
      await waitFor("the delete", () => sink.records.some((r) => r.stream === "public.at_seam" && r.dock.op === "delete"));
    } finally {
      await sidecar.stop();
      await sink.stop();
      await deleter.end();
    }

    const snap = sink.records.find((r) => r.stream === "public.at_seam" && r.dock.op === "snapshot" && r.dock.key === "5");
    const del = sink.records.find((r) => r.stream === "public.at_seam" && r.dock.op === "delete");
    // The collision's precondition: the change sits exactly at the copy's consistent point.
    expect(del?.dock.lsn).toBe(snap?.dock.lsn);
    expect(snap?.data).toEqual({ id: "5", v: "v5" });
    expect(del?.dock.key).toBe("5");
    expect(del?.id).not.toBe(snap?.id);
    expect(snap?.dock.version).toBe(`snapshot:${snap?.dock.lsn}`);
    expect(del?.dock.version).toBe(del?.dock.lsn);
    // After downstream dedupe both states are still there, so the delete is not lost.
    const kept = sink.unique("public.at_seam").filter((r) => r.dock.key === "5");
    expect(kept.map((r) => r.dock.op).sort()).toEqual(["delete", "snapshot"]);
  });

  it("given a copy killed with SIGKILL halfway, when the sidecar restarts, then the copy resumes after the last delivered key instead of starting over", {
    timeout: 120_000,
  }, async () => {
    const sink = await new WebhookSink().start();
    sink.delayMs = 30;
    const stateDir = mkdtempSync(path.join(tmpdir(), "dock-snap-"));
    const env = sidecarEnv(cluster, sink, {
      CDC_SLOT: "resume",
      CDC_PUBLICATION: "resume_pub",
      CDC_TABLES: "public.customers",
      CDC_SNAPSHOT: "true",
      CDC_SNAPSHOT_CHUNK_ROWS: "100",
      CDC_STATE_FILE: path.join(stateDir, "state.json"),
    });
    const log = path.join(stateDir, "sidecar.log");
    const first = new SidecarProcess(env, log);
    await waitFor("1,000 rows copied", () => sink.unique().filter((r) => r.dock.op === "snapshot").length >= 1000, 60_000);
    await first.kill9();
    const state = JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8"));
    expect(state.phase).toBe("copying");
    const savedAfter = Number(state.tables["public.customers"].after[0]);
    // The state is saved after a chunk's 2xx, so a kill between the answer and the save leaves it a
    // few chunks (at most the batches in flight, 4 × 100 rows) behind what the sink accepted; those
    // rows come again after the restart, as duplicates, never as gaps.
    const accepted = Math.max(
      ...sink
        .unique()
        .filter((r) => r.dock.op === "snapshot")
        .map((r) => Number(r.dock.key)),
    );
    expect(savedAfter).toBeGreaterThanOrEqual(accepted - 400);
    expect(savedAfter).toBeLessThanOrEqual(accepted);
    const before = sink.records.length;

    const second = new SidecarProcess(env, log);
    await waitFor("the copy finished", () => JSON.parse(readFileSync(path.join(stateDir, "state.json"), "utf8")).phase === "done", 60_000);
    expect(await second.terminate()).toBe(0);
    await sink.stop();

    const secondRun = sink.records.slice(before).filter((r) => r.dock.op === "snapshot");
    expect(Math.min(...secondRun.map((r) => Number(r.dock.key)))).toBe(savedAfter + 1);
    const keys = new Set(sink.records.filter((r) => r.dock.op === "snapshot").map((r) => r.dock.key));
    const live = (await cluster.sql("SELECT id::text FROM customers")).rows.map((r: { id: string }) => r.id);
    expect(live.filter((id) => !keys.has(id))).toEqual([]);
  });

  it("given a running sidecar, when a table with rows joins the publication, then its existing rows are backfilled and its later changes stream", {
    timeout: 60_000,
  }, async () => {
    const sink = await new WebhookSink().start();
    const sidecar = new Sidecar(
      sidecarConfig(cluster, sink, {
        CDC_SLOT: "grow",
        CDC_PUBLICATION: "grow_pub",
        CDC_TABLES: "public.pairs",
        CDC_SNAPSHOT: "true",
        CDC_SLOT_CHECK_MS: "300",
      }),
    );
    await sidecar.start();
    try {
      await waitFor("the first copy", () => sidecar.metrics.snapshot_done === true);
      await cluster.sql(
        "CREATE TABLE joiner (id int PRIMARY KEY, v text); INSERT INTO joiner SELECT g, 'old' || g FROM generate_series(1, 250) g",
      );
      await cluster.sql("ALTER PUBLICATION grow_pub ADD TABLE joiner");
      await cluster.sql("INSERT INTO joiner VALUES (1000, 'after')");
      await waitFor("backfill and the new row", () => {
        const rs = sink.unique("public.joiner");
        return rs.filter((r) => r.dock.op === "snapshot").length >= 250 && rs.some((r) => r.dock.op === "insert" && r.dock.key === "1000");
      });
      const keys = new Set(sink.unique("public.joiner").map((r) => r.dock.key));
      for (let i = 1; i <= 250; i++) expect(keys.has(String(i))).toBe(true);
      // The table that was already copied is not copied again.
      expect(sink.records.filter((r) => r.stream === "public.pairs" && r.dock.op === "snapshot").length).toBe(500);
    } finally {
      await sidecar.stop();
      await sink.stop();
    }
  });

  it("given tables keyed for replication by another index than their primary key (REPLICA IDENTITY USING INDEX) or by a composite primary key declared out of column order, when copied and backfilled, then each copied row has the key its changes and deletes carry", {
    timeout: 90_000,
  }, async () => {
    await cluster.sql(`
      CREATE TABLE ri_accounts (id int PRIMARY KEY, email text NOT NULL, tenant text NOT NULL, plan text);
      CREATE UNIQUE INDEX ri_accounts_tenant_email ON ri_accounts (tenant, email);
      ALTER TABLE ri_accounts REPLICA IDENTITY USING INDEX ri_accounts_tenant_email;
      INSERT INTO ri_accounts SELECT g, 'u' || g || '@x', 't' || (g % 3), 'free' FROM generate_series(1, 130) g;
      CREATE TABLE ri_rev (a int, b text, v text, PRIMARY KEY (b, a));
      INSERT INTO ri_rev SELECT g, 'k' || g, 'v' || g FROM generate_series(1, 60) g;
      CREATE TABLE ri_late (id int PRIMARY KEY, code text NOT NULL, v text);
      CREATE UNIQUE INDEX ri_late_code ON ri_late (code);
      ALTER TABLE ri_late REPLICA IDENTITY USING INDEX ri_late_code;
      INSERT INTO ri_late SELECT g, 'c' || g, 'v' || g FROM generate_series(1, 40) g;`);
    const sink = await new WebhookSink().start();
    const sidecar = new Sidecar(
      sidecarConfig(cluster, sink, {
        CDC_SLOT: "ri_index",
        CDC_PUBLICATION: "ri_index_pub",
        CDC_TABLES: "public.ri_accounts,public.ri_rev",
        CDC_SNAPSHOT: "true",
        CDC_SNAPSHOT_CHUNK_ROWS: "50",
        CDC_SLOT_CHECK_MS: "300",
        CDC_STATE_FILE: path.join(mkdtempSync(path.join(tmpdir(), "dock-ri-")), "state.json"),
      }),
    );
    const changes = (stream: string) => sink.unique(stream).filter((r) => r.dock.op !== "snapshot");
    const copied = (stream: string) => sink.unique(stream).filter((r) => r.dock.op === "snapshot");
    await sidecar.start();
    try {
      await waitFor("the copy done", () => sidecar.metrics.snapshot_done === true, 60_000);
      await cluster.sql("UPDATE ri_accounts SET plan = 'paid' WHERE id = 7");
      await cluster.sql("DELETE FROM ri_accounts WHERE id = 8");
      await cluster.sql("UPDATE ri_rev SET v = 'changed' WHERE a = 5");
      await cluster.sql("DELETE FROM ri_rev WHERE a = 6");
      await cluster.sql("ALTER PUBLICATION ri_index_pub ADD TABLE ri_late");
      await cluster.sql("DELETE FROM ri_late WHERE id = 3");
      await waitFor("the changes", () => changes("public.ri_accounts").length >= 2 && changes("public.ri_rev").length >= 2);
      await waitFor(
        "the backfill and its table's delete",
        () => copied("public.ri_late").length >= 39 && changes("public.ri_late").length >= 1,
      );
    } finally {
      await sidecar.stop();
      await sink.stop();
    }

    // Changes carry the replica-identity columns in column order: email before tenant.
    expect(changes("public.ri_accounts").map((r) => [r.dock.op, r.dock.key])).toEqual([
      ["update", '["u7@x","t1"]'],
      ["delete", '["u8@x","t2"]'],
    ]);
    const accounts = copied("public.ri_accounts");
    expect(accounts.length).toBe(130);
    const accountKeys = new Map(accounts.map((r) => [r.data?.id, r.dock.key]));
    expect(new Set(accountKeys.values()).size).toBe(130);
    expect(accountKeys.get("7")).toBe('["u7@x","t1"]');
    expect(accountKeys.get("8")).toBe('["u8@x","t2"]');

    expect(changes("public.ri_rev").map((r) => [r.dock.op, r.dock.key])).toEqual([
      ["update", '["5","k5"]'],
      ["delete", '["6","k6"]'],
    ]);
    const rev = copied("public.ri_rev");
    expect(rev.length).toBe(60);
    const revKeys = new Map(rev.map((r) => [r.data?.a, r.dock.key]));
    expect(revKeys.get("5")).toBe('["5","k5"]');
    expect(revKeys.get("6")).toBe('["6","k6"]');

    // The backfill of a table that joined while running is keyed the same way (the delete may come before or after its copy).
    expect(changes("public.ri_late").map((r) => [r.dock.op, r.dock.key])).toEqual([["delete", "c3"]]);
    const late = copied("public.ri_late");
    for (const r of late) expect(r.dock.key).toBe(r.data?.code);
  });

  it("given an unfinished copy of REPLICA IDENTITY USING INDEX tables, when the sidecar restarts, then a position saved in the index's columns is continued and one saved by the primary key (an older state file) starts that table over", {
    timeout: 60_000,
  }, async () => {
    await cluster.sql(`
      CREATE TABLE rr_legacy (id int PRIMARY KEY, code text NOT NULL, v text);
      CREATE UNIQUE INDEX rr_legacy_code ON rr_legacy (code);
      ALTER TABLE rr_legacy REPLICA IDENTITY USING INDEX rr_legacy_code;
      INSERT INTO rr_legacy SELECT g, 'c' || lpad(g::text, 2, '0'), 'v' || g FROM generate_series(1, 30) g;
      CREATE TABLE rr_paged (LIKE rr_legacy INCLUDING ALL);
      ALTER TABLE rr_paged REPLICA IDENTITY USING INDEX rr_paged_code_idx;
      INSERT INTO rr_paged SELECT * FROM rr_legacy;
      CREATE PUBLICATION rr_pub FOR TABLE rr_legacy, rr_paged;`);
    await cluster.sql("SELECT pg_create_logical_replication_slot('rr_resume', 'pgoutput')");
    const lsn = (await cluster.sql("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l as string;
    const stateFile = path.join(mkdtempSync(path.join(tmpdir(), "dock-rr-")), "state.json");
    writeFileSync(
      stateFile,
      JSON.stringify({
        v: 1,
        slot: "rr_resume",
        phase: "copying",
        lsn,
        tables: {
          "public.rr_legacy": { after: ["15"], rows: 15, done: false },
          "public.rr_paged": { after: ["c15"], rows: 15, done: false, by: ["code"] },
        },
      }),
    );
    const sink = await new WebhookSink().start();
    const sidecar = new Sidecar(
      sidecarConfig(cluster, sink, {
        CDC_SLOT: "rr_resume",
        CDC_PUBLICATION: "rr_pub",
        CDC_SNAPSHOT: "true",
        CDC_SNAPSHOT_CHUNK_ROWS: "7",
        CDC_STATE_FILE: stateFile,
      }),
    );
    await sidecar.start();
    try {
      await waitFor("the copy done", () => sidecar.metrics.snapshot_done === true, 30_000);
    } finally {
      await sidecar.stop();
      await sink.stop();
    }
    const codes = (n: number[]) => n.map((g) => `c${String(g).padStart(2, "0")}`);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(sink.unique("public.rr_legacy").map((r) => r.dock.key)).toEqual(codes(range(1, 30)));
    expect(sink.unique("public.rr_paged").map((r) => r.dock.key)).toEqual(codes(range(16, 30)));
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    expect(state.tables["public.rr_paged"]).toMatchObject({ after: ["c30"], rows: 30, done: true, by: ["code"] });
  });

  it("given a running sidecar, when a REPLICA IDENTITY FULL table with a primary key joins the publication, then its changes are keyed by the primary key, like its backfill and like the same changes re-read after a restart", {
    timeout: 90_000,
  }, async () => {
    await cluster.sql(`
      CREATE TABLE fj_seed (id int PRIMARY KEY);
      CREATE TABLE fj_full (id int PRIMARY KEY, label text, amount int);
      ALTER TABLE fj_full REPLICA IDENTITY FULL;
      CREATE TABLE fj_keyless (a int, b text);
      ALTER TABLE fj_keyless REPLICA IDENTITY FULL;
      INSERT INTO fj_full VALUES (1, 'lf-1', 10), (2, 'lf-2', 20), (3, 'lf-3', 30);`);
    const sink = await new WebhookSink().start();
    const changeOf = (r: { stream: string; dock: Record<string, unknown> }) => r.stream === "public.fj_full" && r.dock.op !== "snapshot";
    // The joining table's changes are refused in the first session, so they are read again after the restart.
    sink.failWith = (_n, body) => {
      const parsed = JSON.parse(body) as { bundles: { stream: string; records: { line: string }[] }[] };
      const refuse = parsed.bundles.some((b) => b.records.some((r) => changeOf({ stream: b.stream, dock: JSON.parse(r.line)._dock })));
      return refuse ? 503 : undefined;
    };
    const config = {
      CDC_SLOT: "fulljoin",
      CDC_PUBLICATION: "fulljoin_pub",
      CDC_TABLES: "public.fj_seed",
      CDC_SNAPSHOT: "true",
      CDC_SLOT_CHECK_MS: "300",
      CDC_SHUTDOWN_TIMEOUT_MS: "500",
      CDC_STATE_FILE: path.join(mkdtempSync(path.join(tmpdir(), "dock-fj-")), "state.json"),
    };
    const first = new Sidecar(sidecarConfig(cluster, sink, config));
    await first.start();
    try {
      await waitFor("the first copy", () => first.metrics.snapshot_done === true);
      await cluster.sql("ALTER PUBLICATION fulljoin_pub ADD TABLE fj_full, fj_keyless");
      await cluster.sql("INSERT INTO fj_keyless VALUES (7, 'x')");
      await cluster.sql("UPDATE fj_full SET label = 'lf-1-u' WHERE id = 1");
      await cluster.sql("DELETE FROM fj_full WHERE id = 2");
      await cluster.sql("INSERT INTO fj_full VALUES (4, 'lf-4', 40)");
      await waitFor("the 3 changes offered", () => sink.seen.filter(changeOf).length >= 3);
      await waitFor("the keyless insert", () => sink.records.some((r) => r.stream === "public.fj_keyless" && r.dock.op === "insert"));
      await waitFor("the backfill", () => sink.records.some((r) => r.stream === "public.fj_full" && r.dock.op === "snapshot"));
    } finally {
      await first.stop();
    }
    const offered = [...new Map(sink.seen.filter(changeOf).map((r) => [r.id, r])).values()];
    expect(offered.map((r) => [r.dock.op, r.dock.key])).toEqual([
      ["update", "1"],
      ["delete", "2"],
      ["insert", "4"],
    ]);
    // Without a primary key, a FULL table keeps the documented fallback: every column.
    expect(sink.records.find((r) => r.stream === "public.fj_keyless" && r.dock.op === "insert")?.dock.key).toBe('["7","x"]');
    // The backfill (one chunk, whenever the slot check found the table) is keyed the same way.
    const backfill = sink.records.filter((r) => r.stream === "public.fj_full" && r.dock.op === "snapshot").map((r) => r.dock.key);
    expect(backfill).toContain("1");
    expect(backfill).toContain("3");
    for (const key of backfill) expect(key).toMatch(/^[1-4]$/);

    sink.failWith = null;
    const second = new Sidecar(sidecarConfig(cluster, sink, config));
    await second.start();
    try {
      await waitFor("the 3 changes again", () => sink.records.filter(changeOf).length >= 3);
      await cluster.sql("UPDATE fj_full SET amount = 11 WHERE id = 1");
      await waitFor("the change after the restart", () => sink.records.filter(changeOf).length >= 4);
    } finally {
      await second.stop();
      await sink.stop();
    }
    const delivered = sink.records.filter(changeOf);
    // Re-read after the restart, each change is the very record the first session offered.
    expect(delivered.slice(0, 3).map((r) => r.id)).toEqual(offered.map((r) => r.id));
    expect(delivered.map((r) => r.dock.key)).toEqual(["1", "2", "4", "1"]);
  });
});
