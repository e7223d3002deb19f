import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLogSink } from "../../../src/lib/log";
import { Sidecar } from "../sidecar";
import { PgCluster } from "../../test/helpers/pg-cluster";
import { sidecarConfig, waitFor } from "../../test/helpers/sidecar-env";
import { WebhookSink } from "../../test/helpers/webhook-sink";

describe("streaming every op (real PostgreSQL 15)", () => {
  let cluster: PgCluster;
  let sink: WebhookSink;
  let sidecar: Sidecar;
  const logs: string[] = [];

  beforeAll(async () => {
    setLogSink((l) => logs.push(l));
    cluster = await PgCluster.start();
    sink = await new WebhookSink().start();
    await cluster.sql(`
      CREATE TABLE accounts (id bigint PRIMARY KEY, name text, balance numeric, big bigint);
      CREATE TABLE ledger (id int, region text, amount numeric, PRIMARY KEY (id, region));
      ALTER TABLE ledger REPLICA IDENTITY FULL;
      CREATE TABLE docs (id int PRIMARY KEY, title text, body text);
      ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;`);
    sidecar = new Sidecar(sidecarConfig(cluster, sink, { CDC_TABLES: "public.accounts,public.ledger,public.docs" }));
    await sidecar.start();
  });

  afterAll(async () => {
    await sidecar?.stop();
    await sink?.stop();
    cluster?.stop();
    setLogSink(undefined);
  });

  it("given REPLICA IDENTITY DEFAULT, when rows are inserted, updated (also the key) and deleted, then each change arrives as text values with the right op, key and LSNs", async () => {
    await cluster.sql("INSERT INTO accounts VALUES (1, 'Ada', 10.50, 9007199254740993), (2, NULL, 0, NULL)");
    await cluster.sql("UPDATE accounts SET name = 'Ada L.' WHERE id = 1");
    await cluster.sql("UPDATE accounts SET id = 3 WHERE id = 2");
    await cluster.sql("DELETE FROM accounts WHERE id = 1");
    const got = await waitFor("5 account changes", () => {
      const rs = sink.unique("public.accounts");
      return rs.length >= 5 && rs;
    });
    expect(got.map((r) => [r.dock.op, r.dock.key])).toEqual([
      ["insert", "1"],
      ["insert", "2"],
      ["update", "1"],
      ["update", "3"],
      ["delete", "1"],
    ]);
    const [ins1, ins2, upd, keyChange, del] = got;
    // Big integers and numerics stay exact text, NULL stays null.
    expect(ins1?.line).toContain('"data":{"id":"1","name":"Ada","balance":"10.50","big":"9007199254740993"}');
    expect(ins2?.data).toEqual({ id: "2", name: null, balance: "0", big: null });
    expect(upd?.data).toEqual({ id: "1", name: "Ada L.", balance: "10.50", big: "9007199254740993" });
    expect(upd?.dock.old).toBeUndefined();
    expect(keyChange?.dock.old).toEqual({ id: "2" });
    expect(keyChange?.dock.old_tuple).toBe("key");
    // A DEFAULT-identity delete carries only the key: the other columns are not claimed to be null.
    expect(del?.data).toEqual({ id: "1" });
    expect(del?.dock.old_tuple).toBe("key");
    for (const r of got) {
      expect(r.dock).toMatchObject({ source: "app_db", stream: "public.accounts", pattern: "cdc" });
      expect(r.dock.version).toBe(r.dock.lsn);
      expect(String(r.dock.commit_lsn)).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(typeof r.dock.xid).toBe("number");
      expect(String(r.dock.commit_time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    }
    expect(ins1?.dock.commit_lsn).toBe(ins2?.dock.commit_lsn);
    expect(ins1?.dock.xid).toBe(ins2?.dock.xid);
    expect(ins1?.dock.lsn).not.toBe(ins2?.dock.lsn);
  });

  it("given REPLICA IDENTITY FULL, when a row is updated and deleted, then the old row comes whole and the key is the primary key", async () => {
    await cluster.sql("INSERT INTO ledger VALUES (7, 'eu', 1.25)");
    await cluster.sql("UPDATE ledger SET amount = 2.5 WHERE id = 7");
    await cluster.sql("DELETE FROM ledger WHERE id = 7");
    const got = await waitFor("3 ledger changes", () => {
      const rs = sink.unique("public.ledger");
      return rs.length >= 3 && rs;
    });
    expect(got.map((r) => [r.dock.op, r.dock.key])).toEqual([
      ["insert", '["7","eu"]'],
      ["update", '["7","eu"]'],
      ["delete", '["7","eu"]'],
    ]);
    expect(got[1]?.dock.old).toEqual({ id: "7", region: "eu", amount: "1.25" });
    expect(got[1]?.dock.old_tuple).toBe("full");
    expect(got[1]?.data).toEqual({ id: "7", region: "eu", amount: "2.5" });
    expect(got[2]?.data).toEqual({ id: "7", region: "eu", amount: "2.5" });
    expect(got[2]?.dock.old_tuple).toBeUndefined();
  });

  it("given a TOASTed column, when another column is updated, then the unchanged value is listed in unchanged_toast, not sent as null", async () => {
    const body = Array.from({ length: 5000 }, (_, i) => `line ${i} ${Math.random()}`).join("\n");
    await cluster.sql("INSERT INTO docs VALUES (1, 'first', $1)", [body]);
    await cluster.sql("UPDATE docs SET title = 'second' WHERE id = 1");
    const got = await waitFor("2 docs changes", () => {
      const rs = sink.unique("public.docs");
      return rs.length >= 2 && rs;
    });
    expect(got[0]?.data?.body).toBe(body);
    expect(got[1]?.data).toEqual({ id: "1", title: "second" });
    expect(got[1]?.data).not.toHaveProperty("body");
    expect(got[1]?.dock.unchanged_toast).toEqual(["body"]);
  });

  it("given a TRUNCATE, when it commits, then one delete record per table marks the truncate", async () => {
    await cluster.sql("INSERT INTO ledger VALUES (8, 'us', 3)");
    await cluster.sql("TRUNCATE ledger");
    const got = await waitFor("the truncate", () => sink.unique("public.ledger").find((r) => r.dock.truncate === true));
    expect(got.dock).toMatchObject({ op: "delete", key: "", truncate: true, cascade: false, restart_identity: false });
    expect(got.data).toEqual({});
  });

  it("given a schema change, when a column is added and dropped, then each schema version is recorded once on <table>._schema and new rows carry the new column", async () => {
    await cluster.sql("ALTER TABLE accounts ADD COLUMN tier text");
    await cluster.sql("INSERT INTO accounts (id, name, tier) VALUES (10, 'Bo', 'gold')");
    await cluster.sql("ALTER TABLE accounts DROP COLUMN big");
    await cluster.sql("INSERT INTO accounts (id, name, tier) VALUES (11, 'Cy', 'free')");
    const row = await waitFor("row 11", () => sink.unique("public.accounts").find((r) => r.dock.key === "11"));
    expect(row.data).toEqual({ id: "11", name: "Cy", balance: null, tier: "free" });
    expect(sink.unique("public.accounts").find((r) => r.dock.key === "10")?.data).toEqual({
      id: "10",
      name: "Bo",
      balance: null,
      big: null,
      tier: "gold",
    });
    const versions = sink
      .unique("public.accounts._schema")
      .map((r) => (r.data as unknown as { columns: { name: string }[] }).columns.map((c) => c.name));
    expect(versions).toEqual([
      ["id", "name", "balance", "big"],
      ["id", "name", "balance", "big", "tier"],
      ["id", "name", "balance", "tier"],
    ]);
  });
});
