import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../../src/lib/log";
import { formatLsn, parseLsn } from "../lsn";
import { Sidecar } from "../sidecar";
import { PgCluster } from "../../test/helpers/pg-cluster";
import { sidecarConfig, waitFor } from "../../test/helpers/sidecar-env";
import { commitEnds, confirmedFlush, createProbe } from "../../test/helpers/wal-probe";
import { WebhookSink } from "../../test/helpers/webhook-sink";

describe("delivery and confirmation (real PostgreSQL 15)", () => {
  let cluster: PgCluster;
  let sink: WebhookSink;
  const running: Sidecar[] = [];
  let slotN = 0;

  beforeAll(async () => {
    setLogSink(() => {});
    cluster = await PgCluster.start();
    await cluster.sql("CREATE TABLE items (id int PRIMARY KEY, label text)");
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
    await sink?.stop();
  });
  afterAll(() => {
    cluster?.stop();
    setLogSink(undefined);
  });

  async function start(overrides: Record<string, string>): Promise<Sidecar> {
    const s = new Sidecar(sidecarConfig(cluster, sink, { CDC_TABLES: "public.items", ...overrides }));
    running.push(s);
    await s.start();
    return s;
  }
  const ids = (stream = "public.items") => sink.unique(stream).map((r) => Number(r.dock.key));

  it("given the sink answers 503 to the first deliveries, when changes stream, then they are retried and none is lost", async () => {
    sink = await new WebhookSink().start();
    sink.failWith = (n) => (n < 3 ? 503 : undefined);
    const slot = `retry_${slotN++}`;
    await start({ CDC_SLOT: slot, CDC_PUBLICATION: `${slot}_pub`, CDC_BATCH_MAX_RECORDS: "20" });
    await cluster.sql("INSERT INTO items SELECT g, 'r' || g FROM generate_series(1000, 1099) g");
    await waitFor("100 rows", () => ids().length >= 100);
    expect(sink.failed).toBe(3);
    expect(ids().sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
  });

  it("given a slow Worker that keeps accepting, when the socket stays paused longer than CDC_MAX_PAUSE_MS, then the session keeps its connection (only a Worker accepting nothing makes it let go)", async () => {
    sink = await new WebhookSink().start();
    sink.delayMs = 250;
    const slot = `slow_${slotN++}`;
    const sidecar = await start({
      CDC_SLOT: slot,
      CDC_PUBLICATION: `${slot}_pub`,
      CDC_BATCH_MAX_RECORDS: "50",
      CDC_MAX_IN_FLIGHT: "1",
      CDC_MAX_PAUSE_MS: "600",
    });
    let released = false;
    sidecar.done.catch(() => {
      released = true;
    });
    await cluster.sql("INSERT INTO items SELECT g, 's' || g FROM generate_series(5000, 5999) g");
    await waitFor("1,000 rows", () => ids().filter((k) => k >= 5000 && k < 6000).length >= 1000, 60_000);
    expect(released).toBe(false);
    expect(sidecar.metrics.state).toBe("streaming");
    // 20 deliveries of 250 ms behind one slot in flight: far longer than the 600 ms pause allowance.
    expect(sink.deliveries).toBeGreaterThanOrEqual(20);
  });

  it("given a transaction of exactly one batch of changes, when its commit arrives after the cut, then it is confirmed at exactly its end LSN and not before the answer", async () => {
    sink = await new WebhookSink().start();
    const slot = `boundary_${slotN++}`;
    const sidecar = await start({ CDC_SLOT: slot, CDC_PUBLICATION: `${slot}_pub`, CDC_BATCH_MAX_RECORDS: "10", CDC_LINGER_MS: "50" });
    await createProbe(cluster, `${slot}_probe`);
    let release!: () => void;
    sink.gate = new Promise<void>((r) => (release = r));
    const tx = await cluster.sql(
      "WITH ins AS (INSERT INTO items SELECT g, 'b' || g FROM generate_series(2000, 2009) g RETURNING 1) SELECT txid_current()::text AS xid, count(*) FROM ins",
    );
    const xid = Number((tx.rows[0] as { xid: string }).xid);
    const offered = await waitFor("the batch offered", () => sink.seen.find((r) => r.dock.key === "2009"));
    const commitStart = parseLsn(String(offered.dock.commit_lsn));
    await new Promise((r) => setTimeout(r, 500));
    // Unanswered: neither the slot nor the sidecar may be past the start of this commit.
    expect(await confirmedFlush(cluster, slot)).toBeLessThanOrEqual(commitStart);
    expect(parseLsn(sidecar.metrics.durable_lsn)).toBeLessThanOrEqual(commitStart);
    release();
    sink.gate = null;
    const end = (await commitEnds(cluster, `${slot}_probe`)).get(xid);
    expect(end).toBeDefined();
    await waitFor("durable at the commit end", () => sidecar.metrics.durable_lsn === formatLsn(end as bigint));
    await waitFor("slot confirmed", async () => (await confirmedFlush(cluster, slot)) === end);
    expect(ids().filter((i) => i >= 2000).length).toBe(10);
  });

  it("given a transaction whose commit record starts exactly at the previous commit's end LSN (the lsn+1 trap), when the sidecar restarts after confirming the first, then the second is re-sent, not skipped", async () => {
    sink = await new WebhookSink().start();
    const slot = `trap_${slotN++}`;
    const probe = `${slot}_probe`;
    await start({ CDC_SLOT: slot, CDC_PUBLICATION: `${slot}_pub`, CDC_BATCH_MAX_RECORDS: "1", CDC_SHUTDOWN_TIMEOUT_MS: "500" });
    await createProbe(cluster, probe);
    let refuse = "";
    sink.failWith = (_n, body) => (refuse && body.includes(refuse) ? 503 : undefined);

    // B writes its row first and commits last: with nothing in between, B's commit record is the
    // WAL record right after A's commit. Retry if a background record (running xacts) slipped in.
    let aEnd = 0n;
    let bCommit = -1n;
    for (let attempt = 0; attempt < 10 && aEnd !== bCommit; attempt++) {
      if (attempt > 0) {
        // The last try was not back to back: let its B through and start again from a quiet slot.
        refuse = "";
        await waitFor("previous attempt drained", () => sink.unique().some((r) => r.dock.key === String(3000 + (attempt - 1) * 2)));
      }
      refuse = `B-row-${attempt}`;
      const b = await cluster.client();
      const a = await cluster.client();
      await b.query("BEGIN");
      await b.query("INSERT INTO items VALUES ($1, $2)", [3000 + attempt * 2, refuse]);
      const ax = Number(
        (await a.query("INSERT INTO items VALUES ($1, 'A-row') RETURNING txid_current()::text AS x", [3001 + attempt * 2])).rows[0].x,
      );
      await b.query("COMMIT");
      await a.end();
      await b.end();
      aEnd = (await commitEnds(cluster, probe)).get(ax) ?? 0n;
      // B's commit LSN (where its commit record starts) as the sidecar decoded it from B's Begin.
      const key = String(3000 + attempt * 2);
      const bSeen = await waitFor("B decoded and offered", () => sink.seen.find((r) => r.dock.key === key));
      bCommit = parseLsn(String(bSeen.dock.commit_lsn));
    }
    expect(aEnd).not.toBe(0n);
    expect(bCommit).toBe(aEnd);

    await waitFor("slot confirmed at A's end", async () => (await confirmedFlush(cluster, slot)) === aEnd);
    await running.pop()?.stop();
    expect(await confirmedFlush(cluster, slot)).toBe(aEnd);

    // What lsn+1 would have done: a copy of the slot confirmed one byte further skips B entirely.
    await cluster.sql("SELECT pg_copy_logical_replication_slot($1, $2, false, 'test_decoding')", [slot, `${slot}_plus1`]);
    const lastBKey = String(Number(sink.seen.filter((r) => r.data?.label === refuse).at(-1)?.dock.key));
    const exact = await cluster.sql("SELECT data FROM pg_logical_slot_peek_changes($1, NULL, NULL)", [`${slot}_plus1`]);
    expect(exact.rows.some((r: { data: string }) => r.data.includes(`id[integer]:${lastBKey} `))).toBe(true);
    await cluster.sql("SELECT pg_replication_slot_advance($1, $2::pg_lsn)", [`${slot}_plus1`, formatLsn(aEnd + 1n)]);
    const plus1 = await cluster.sql("SELECT data FROM pg_logical_slot_peek_changes($1, NULL, NULL)", [`${slot}_plus1`]);
    expect(plus1.rows.some((r: { data: string }) => r.data.includes(`id[integer]:${lastBKey} `))).toBe(false);
    await cluster.sql("SELECT pg_drop_replication_slot($1)", [`${slot}_plus1`]);

    expect(sink.unique().some((r) => r.dock.key === lastBKey)).toBe(false);
    sink.failWith = null;
    await start({ CDC_SLOT: slot, CDC_PUBLICATION: `${slot}_pub`, CDC_BATCH_MAX_RECORDS: "1" });
    const resent = await waitFor("B re-sent after restart", () => sink.unique().find((r) => r.dock.key === lastBKey));
    expect(resent.data).toEqual({ id: lastBKey, label: refuse });
    expect(parseLsn(String(resent.dock.commit_lsn))).toBe(aEnd);
  });

  it("given changes still buffered, when the sidecar stops gracefully, then it delivers them, confirms their commit, and a restart resumes from the slot without re-sending them", async () => {
    sink = await new WebhookSink().start();
    const slot = `graceful_${slotN++}`;
    const first = await start({ CDC_SLOT: slot, CDC_PUBLICATION: `${slot}_pub`, CDC_LINGER_MS: "600000", CDC_BATCH_MAX_RECORDS: "100000" });
    await createProbe(cluster, `${slot}_probe`);
    const tx = await cluster.sql(
      "WITH ins AS (INSERT INTO items SELECT g, 'g' || g FROM generate_series(4000, 4049) g RETURNING 1) SELECT txid_current()::text AS xid, count(*) FROM ins",
    );
    const end = (await commitEnds(cluster, `${slot}_probe`)).get(Number((tx.rows[0] as { xid: string }).xid)) as bigint;
    await waitFor("all 50 received", () => first.metrics.received_lsn !== "0/0" && parseLsn(first.metrics.received_lsn) >= end - 200n);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.deliveries).toBe(0);
    await running.pop()?.stop();
    expect(ids().filter((i) => i >= 4000 && i < 4050).length).toBe(50);
    expect(await confirmedFlush(cluster, slot)).toBeGreaterThanOrEqual(end);

    await cluster.sql("INSERT INTO items SELECT g, 'h' || g FROM generate_series(4050, 4059) g");
    const before = sink.records.length;
    await start({ CDC_SLOT: slot, CDC_PUBLICATION: `${slot}_pub` });
    await waitFor("the 10 rows written while stopped", () => ids().filter((i) => i >= 4050 && i < 4060).length === 10);
    const again = sink.records.slice(before).filter((r) => r.stream === "public.items");
    expect(again.map((r) => Number(r.dock.key)).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 4050 + i));
  });
});
