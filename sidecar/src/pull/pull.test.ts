import type { DeliveryBody } from "../delivery/signed-sender";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordBundleSchema } from "../../../src/envelope/bundle";
import { SignedSender } from "../delivery/signed-sender";
import { PgCluster } from "../../test/helpers/pg-cluster";
import { TEST_SECRET, WebhookSink } from "../../test/helpers/webhook-sink";
import { CursorFile } from "./cursor-file";
import { fullRefresh } from "./full-refresh";
import { pollTable } from "./table-poller";

describe("database polling and full refresh (real PostgreSQL 15)", () => {
  let cluster: PgCluster;
  let sink: WebhookSink;
  let db: pg.Client;
  let sender: SignedSender;
  const bodies: string[] = [];

  beforeAll(async () => {
    cluster = await PgCluster.start();
    sink = await new WebhookSink().start();
    sender = new SignedSender({ url: sink.url, secret: TEST_SECRET, maxBackoffMs: 50 });
    db = await cluster.client();
    await db.query(`
      CREATE TABLE orders (id int PRIMARY KEY, status text, updated_at timestamptz NOT NULL);
      INSERT INTO orders SELECT g, 'new', '2026-11-25 07:00:00+00' FROM generate_series(1, 7) g;
      INSERT INTO orders VALUES (8, 'new', '2026-11-25 07:00:05+00'), (9, 'new', '2026-11-25 07:10:00+00');
      CREATE TABLE countries (code text PRIMARY KEY, name text, note text);
      INSERT INTO countries SELECT 'c' || g, 'Country ' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE E'tab\\there\\nline\\\\ é ' || repeat('x', g % 50) END FROM generate_series(1, 2500) g;`);
  });
  afterAll(async () => {
    await db?.end();
    await sink?.stop();
    cluster?.stop();
  });

  const deliver = (id: string, body: DeliveryBody) => {
    bodies.push(typeof body === "string" ? body : Buffer.concat(Buffer.isBuffer(body) ? [body] : [...body]).toString());
    return sender.send(id, body);
  };

  it("given rows sharing one timestamp across page boundaries, when polled twice with an overlap, then each row version arrives once per _dock.id and the cursor only moves forward", async () => {
    const cursors = new CursorFile(path.join(mkdtempSync(path.join(tmpdir(), "dock-poll-")), "cursors.json"));
    sink.failWith = (n) => (n === 1 ? 503 : undefined);
    const opts = {
      source: "app_db",
      table: { schema: "public", name: "orders" },
      cursorColumn: "updated_at",
      overlapSeconds: 60,
      pageRows: 3,
      runId: "poll-1",
      deliver,
      saveCursor: (c: string) => cursors.set("public.orders", c),
    };
    const first = await pollTable(db, opts, null);
    expect(first).toMatchObject({ records: 9, pages: 3 });
    expect(cursors.get("public.orders")).toBe("2026-11-25 07:10:00+00");
    expect(sink.failed).toBe(1);
    expect(sink.unique("public.orders").map((r) => r.dock.key)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);

    await db.query("UPDATE orders SET status = 'paid', updated_at = '2026-11-25 07:20:00+00' WHERE id IN (2, 8)");
    await db.query("INSERT INTO orders VALUES (10, 'new', '2026-11-25 07:09:30+00')"); // late writer, inside the overlap
    const second = await pollTable(db, { ...opts, runId: "poll-2" }, cursors.get("public.orders"));
    // Rows 9 (seen before, same version) and 10 (late) come from the overlap window; 2 and 8 changed.
    expect(second.records).toBe(4);
    expect(cursors.get("public.orders")).toBe("2026-11-25 07:20:00+00");
    const unique = sink.unique("public.orders");
    expect(unique.length).toBe(9 + 3);
    expect(unique.find((r) => r.dock.key === "8" && r.data?.status === "paid")?.dock).toMatchObject({
      pattern: "poll",
      op: "upsert",
      version: expect.stringMatching(/^2026-11-25 07:20:00\+00\|[0-9a-f]{16}$/),
    });
    const nines = sink.records.filter((r) => r.dock.key === "9");
    expect(nines.length).toBe(2);
    expect(nines[0]?.id).toBe(nines[1]?.id);

    // A poll that finds nothing newer leaves the cursor alone.
    await pollTable(db, { ...opts, runId: "poll-3" }, cursors.get("public.orders"));
    expect(cursors.get("public.orders")).toBe("2026-11-25 07:20:00+00");
    sink.failWith = null;
  });

  it("given a row updated twice within one cursor value, when polled after each update, then both states land under distinct _dock.ids, and an unchanged row polled twice keeps its id", async () => {
    await db.query(`
      CREATE TABLE tickets (id int PRIMARY KEY, status text, updated_at timestamptz NOT NULL);
      INSERT INTO tickets VALUES (1, 'open', '2026-11-25 08:00:00+00'), (2, 'open', '2026-11-25 08:00:00+00');`);
    const before = sink.records.length;
    let cursor: string | null = null;
    const opts = {
      source: "app_db",
      table: { schema: "public", name: "tickets" },
      cursorColumn: "updated_at",
      overlapSeconds: 60,
      pageRows: 100,
      runId: "poll-t1",
      deliver,
      saveCursor: (c: string) => {
        cursor = c;
      },
    };
    await pollTable(db, opts, null);
    // The same second (an application clock of one-second resolution): only the content differs.
    await db.query("UPDATE tickets SET status = 'closed' WHERE id = 1");
    await pollTable(db, { ...opts, runId: "poll-t2" }, cursor);
    await db.query("UPDATE tickets SET status = 'reopened' WHERE id = 1");
    await pollTable(db, { ...opts, runId: "poll-t3" }, cursor);

    const got = sink.records.slice(before).filter((r) => r.stream === "public.tickets");
    // What dedupe keeps: the first record of every _dock.id.
    const kept = new Map<string, (typeof got)[number]>();
    for (const r of got) if (!kept.has(r.id)) kept.set(r.id, r);
    const statesOf = (key: string) => [...kept.values()].filter((r) => r.dock.key === key).map((r) => r.data?.status);
    expect(statesOf("1")).toEqual(["open", "closed", "reopened"]);
    for (const r of got) expect(r.dock.version).toMatch(/^2026-11-25 08:00:00\+00\|[0-9a-f]{16}$/);
    // Row 2 never changed: three polls, one id.
    const row2 = got.filter((r) => r.dock.key === "2");
    expect(row2.length).toBe(3);
    expect(new Set(row2.map((r) => r.id)).size).toBe(1);
    expect(statesOf("2")).toEqual(["open"]);
  });

  it("given a table with tabs, newlines, backslashes, unicode and NULLs, when fully refreshed with COPY TO STDOUT, then every row arrives exactly as Postgres prints it, in contiguous snapshot parts of at most 110 KB", async () => {
    bodies.length = 0;
    const before = sink.records.length;
    const out = await fullRefresh(db, {
      source: "app_db",
      table: { schema: "public", name: "countries" },
      runId: "refresh-countries-1",
      batchRecords: 700,
      deliver,
    });
    expect(out.records).toBe(2500);
    const bundles = bodies.flatMap((b) => (JSON.parse(b) as { bundles: unknown[] }).bundles).map((b) => recordBundleSchema.parse(b));
    expect(bundles.map((b) => b.snapshot?.part)).toEqual(Array.from({ length: out.parts }, (_, i) => i));
    for (const b of bundles) {
      expect(b).toMatchObject({ pattern: "full_refresh", stream: "public.countries", snapshot: { run_id: "refresh-countries-1" } });
      expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThanOrEqual(110_000);
    }
    const got = sink.records.slice(before);
    expect(new Set(got.map((r) => r.id)).size).toBe(2500);
    const expected = (await db.query("SELECT code, name, note FROM countries")).rows as {
      code: string;
      name: string;
      note: string | null;
    }[];
    const byKey = new Map(got.map((r) => [r.dock.key, r.data]));
    for (const row of expected) expect(byKey.get(row.code)).toEqual(row);
    expect(got[0]?.dock).toMatchObject({ op: "snapshot", pattern: "full_refresh" });
    // The manifest goes last, after every part was answered 2xx.
    const last = JSON.parse(bodies[bodies.length - 1] as string) as { bundles: unknown[]; manifests: unknown[] };
    expect(last.bundles).toEqual([]);
    expect(last.manifests).toEqual([
      expect.objectContaining({
        kind: "manifest",
        v: 1,
        source: "app_db",
        stream: "public.countries",
        run_id: "refresh-countries-1",
        parts: out.parts,
        records: 2500,
      }),
    ]);
  });
});
