import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, PgCluster } from "./test/helpers/pg-cluster";
import { BuiltProcess, productionInstall, resolvable } from "./test/helpers/production-install";
import { waitFor } from "./test/helpers/sidecar-env";
import { TEST_SECRET, WebhookSink } from "./test/helpers/webhook-sink";
import { startWorker } from "./sftp/testing/worker-dev";

/**
 * The sidecars as a production install runs them: the committed sidecar/dist started with plain
 * `node` in a directory whose node_modules holds only the production dependencies, against a real
 * PostgreSQL 15, a local Worker stand-in that checks signatures, and (for the Worker's own
 * refusals) the real Worker under wrangler dev.
 */
let install: string;
let cluster: PgCluster;
let sink: WebhookSink;

beforeAll(async () => {
  install = productionInstall();
  cluster = await PgCluster.start();
  sink = await new WebhookSink().start();
  await cluster.sql(`
    CREATE TABLE orders (id int PRIMARY KEY, status text, updated_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO orders (id, status) VALUES (1, 'new');
    CREATE TABLE countries (code text PRIMARY KEY, name text);
    INSERT INTO countries SELECT 'c' || g, 'Country ' || g FROM generate_series(1, 300) g;
    CREATE TABLE payroll (id int PRIMARY KEY, amount numeric);
    CREATE PUBLICATION payroll_pub FOR TABLE payroll;
    CREATE ROLE plain LOGIN;
    CREATE ROLE streamer LOGIN REPLICATION;`);
}, 120_000);
afterAll(async () => {
  await sink?.stop();
  cluster?.stop();
  if (install) rmSync(install, { recursive: true, force: true });
});

/** The settings of a sidecar against the test cluster and sink; fast timers, health server off. */
function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...cluster.env,
    WORKER_URL: sink.url,
    CDC_INGEST_SECRET: TEST_SECRET,
    CDC_SOURCE: "app_db",
    CDC_LINGER_MS: "20",
    CDC_HEARTBEAT_MS: "0",
    CDC_HEALTH_PORT: "0",
    CDC_HEALTH_REPORT_MS: "0",
    CDC_STARTUP_WAIT_MS: "1000",
    DOCK_STATE_DIR: mkdtempSync(path.join(tmpdir(), "dock-state-")),
    ...overrides,
  };
}

/** Starts the built CDC sidecar and waits for it to exit; its refusals at start. */
async function refusedStart(settings: Record<string, string>, cwd?: string) {
  const proc = new BuiltProcess(install, "main.mjs", [], settings, cwd);
  const code = await proc.exit(60_000);
  const errors = proc.events("cdc.start_refused").map((l) => l.error ?? "");
  return { code, errors, text: errors.join("\n"), proc };
}

describe("a production-only install (npm ci --omit=dev, simulated offline)", () => {
  it("given the install, then its node_modules has the runtime packages and neither tsx nor esbuild", () => {
    for (const name of ["pg", "zod", "commander", "mongodb", "ssh2"]) expect(resolvable(install, name), name).toBe(true);
    for (const name of ["tsx", "esbuild", "typescript", "vitest"]) expect(resolvable(install, name), name).toBe(false);
    expect(existsSync(path.join(install, "sidecar", "src"))).toBe(false);
  });

  it("given the built CDC sidecar started with node and no DOCK_STATE_DIR, when a row changes, then the change is delivered and its state is in ./.dock-state, nothing else in the working directory", {
    timeout: 120_000,
  }, async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "dock-cwd-"));
    const { DOCK_STATE_DIR: _unset, ...settings } = env({
      CDC_SLOT: "prod_install",
      CDC_PUBLICATION: "prod_pub",
      CDC_TABLES: "public.orders",
    });
    const proc = new BuiltProcess(install, "main.mjs", [], settings, cwd);
    try {
      await waitFor("streaming", () => proc.events("cdc.streaming").length > 0 || proc.child.exitCode !== null, 60_000);
      expect(proc.child.exitCode, proc.output).toBeNull();
      // The initial snapshot copies the existing row; a new change follows in the stream.
      await waitFor("the snapshot row", () => sink.records.some((r) => r.stream === "public.orders" && r.dock.op === "snapshot"), 60_000);
      await cluster.sql("INSERT INTO orders (id, status) VALUES (2, 'paid')");
      const change = await waitFor(
        "the insert",
        () => sink.records.find((r) => r.stream === "public.orders" && r.dock.op === "insert"),
        60_000,
      );
      expect(change.data).toMatchObject({ id: "2", status: "paid" });
      expect(change.dock.source).toBe("app_db");
      expect(await proc.terminate()).toBe(0);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
    }
    expect(proc.events("cdc.start_checked")[0]).toMatchObject({
      state_file: path.join(cwd, ".dock-state", "cdc-app_db-prod_install.json"),
    });
    expect(readdirSync(cwd)).toEqual([".dock-state"]);
    const state = JSON.parse(readFileSync(path.join(cwd, ".dock-state", "cdc-app_db-prod_install.json"), "utf8"));
    expect(state).toMatchObject({ slot: "prod_install", phase: "done" });
  });

  it("given the built db-pull, when it refreshes a table (worker threads) and polls one, then the rows arrive and the poll cursor is kept in DOCK_STATE_DIR", {
    timeout: 120_000,
  }, async () => {
    const settings = env();
    const refresh = new BuiltProcess(
      install,
      "db-pull.mjs",
      ["refresh", "--table", "public.countries", "--batch-records", "100"],
      settings,
    );
    expect(await refresh.exit(), refresh.output).toBe(0);
    const copied = new Set(
      sink.records.filter((r) => r.stream === "public.countries" && r.dock.pattern === "full_refresh").map((r) => r.dock.key),
    );
    expect(copied.size).toBe(300);

    const poll = new BuiltProcess(install, "db-pull.mjs", ["poll", "--table", "public.orders", "--cursor-column", "updated_at"], settings);
    expect(await poll.exit(), poll.output).toBe(0);
    expect(sink.records.filter((r) => r.stream === "public.orders" && r.dock.pattern === "poll").length).toBeGreaterThanOrEqual(2);
    const cursors = JSON.parse(readFileSync(path.join(settings.DOCK_STATE_DIR as string, "poll-cursors-app_db.json"), "utf8"));
    expect(Object.keys(cursors)).toEqual(["public.orders"]);
  });

  it("given the built Mongo and SFTP sidecars, when started without what they need, then each loads without dev dependencies and names the missing setting", async () => {
    const mongo = new BuiltProcess(install, "mongo-main.mjs", [], { WORKER_URL: sink.url, CDC_INGEST_SECRET: TEST_SECRET });
    expect(await mongo.exit()).toBe(2);
    expect(mongo.events("mongo.config_invalid")[0]?.error).toContain("MONGO_URL");
    const sftp = new BuiltProcess(install, "sftp.mjs", [], {});
    expect(await sftp.exit()).toBe(2);
    expect(sftp.events("sftp.config_invalid")[0]?.error).toContain("is required");
  });
});

describe("configuration errors reported at start (built sidecar, production install)", () => {
  it("given a role without REPLICATION, then start fails with exit 2 naming ALTER ROLE … WITH REPLICATION", {
    timeout: 60_000,
  }, async () => {
    const r = await refusedStart(env({ PGUSER: "plain", CDC_PUBLICATION: "payroll_pub" }));
    expect(r.code, r.proc.output).toBe(2);
    expect(r.text).toContain("neither the REPLICATION nor the SUPERUSER attribute");
    expect(r.text).toContain('ALTER ROLE "plain" WITH REPLICATION');
  });

  it("given a missing publication and a role that is no superuser, then creating it FOR ALL TABLES is refused at start, and for named tables it does not own each missing right is named", {
    timeout: 60_000,
  }, async () => {
    const all = await refusedStart(env({ PGUSER: "streamer", CDC_PUBLICATION: "not_there" }));
    expect(all.code, all.proc.output).toBe(2);
    expect(all.text).toContain("publication not_there (CDC_PUBLICATION) does not exist, and creating it FOR ALL TABLES needs a superuser");
    const named = await refusedStart(env({ PGUSER: "streamer", CDC_PUBLICATION: "not_there", CDC_TABLES: "public.orders,public.nope" }));
    expect(named.code).toBe(2);
    expect(named.text).toContain('GRANT CREATE ON DATABASE "postgres" TO "streamer"');
    expect(named.text).toContain("CDC_TABLES names public.nope, which does not exist");
    expect(named.text).toContain("role streamer does not own public.orders");
  });

  it("given an existing publication whose table the role cannot SELECT, then the start names the GRANT (or CDC_SNAPSHOT=false)", {
    timeout: 60_000,
  }, async () => {
    const r = await refusedStart(env({ PGUSER: "streamer", CDC_PUBLICATION: "payroll_pub" }));
    expect(r.code, r.proc.output).toBe(2);
    expect(r.text).toContain("cannot read public.payroll of publication payroll_pub");
    expect(r.text).toContain('GRANT SELECT ON public.payroll TO "streamer"');
    // With the grant the same role passes every check and streams.
    await cluster.sql("GRANT SELECT ON payroll TO streamer");
    const ok = new BuiltProcess(
      install,
      "main.mjs",
      [],
      env({ PGUSER: "streamer", CDC_PUBLICATION: "payroll_pub", CDC_SLOT: "streamer_slot" }),
    );
    try {
      await waitFor("streaming", () => ok.events("cdc.streaming").length > 0 || ok.child.exitCode !== null, 60_000);
      expect(ok.events("cdc.start_refused"), ok.output).toEqual([]);
      expect(await ok.terminate()).toBe(0);
    } finally {
      if (ok.child.exitCode === null) ok.child.kill("SIGKILL");
    }
  });

  it("given a server with wal_level = replica, then start fails naming wal_level = logical", { timeout: 90_000 }, async () => {
    const replica = await PgCluster.start({ extraConf: "wal_level = replica" });
    try {
      const r = await refusedStart({ ...env(), ...replica.env });
      expect(r.code, r.proc.output).toBe(2);
      expect(r.text).toContain("wal_level = replica; logical replication needs wal_level = logical");
    } finally {
      replica.stop();
    }
  });

  it("given Postgres unreachable, or a database that does not exist, then start fails naming PGHOST/PGPORT (exit 1: it may come up) or PGDATABASE (exit 2)", {
    timeout: 60_000,
  }, async () => {
    const down = await refusedStart(env({ PGPORT: String(await freePort()) }));
    expect(down.code, down.proc.output).toBe(1);
    expect(down.text).toContain("could not be reached for 1 s");
    expect(down.text).toContain("Check PGHOST and PGPORT");
    const nodb = await refusedStart(env({ PGDATABASE: "no_such_db" }));
    expect(nodb.code).toBe(2);
    expect(nodb.text).toContain('database "no_such_db" does not exist');
    expect(nodb.text).toContain("PGDATABASE");
  });

  it("given an unreachable Worker, then start fails after CDC_STARTUP_WAIT_MS naming WORKER_URL, with exit 1", {
    timeout: 60_000,
  }, async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await refusedStart(env({ WORKER_URL: url }));
    expect(r.code, r.proc.output).toBe(1);
    expect(r.text).toContain(`the Worker at WORKER_URL (${url}) could not be reached`);
  });

  it("given a WORKER_URL that is not the Worker (a server answering 404), then start fails with exit 2 saying so", {
    timeout: 60_000,
  }, async () => {
    const other: Server = createServer((_req, res) => res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>"));
    await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
      const r = await refusedStart(env({ WORKER_URL: url }));
      expect(r.code, r.proc.output).toBe(2);
      expect(r.text).toContain(`${url}/ingest/cdc answered 404: either WORKER_URL (${url}) is not the Loading Dock Worker's base URL`);
    } finally {
      other.close();
    }
  });

  it("given several problems at once, then one start names them all, and a state directory that cannot be written is one of them", {
    timeout: 60_000,
  }, async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "dock-notdir-")), "a-file");
    writeFileSync(file, "");
    const r = await refusedStart(
      env({ PGUSER: "plain", DOCK_STATE_DIR: path.join(file, "state"), WORKER_URL: `http://127.0.0.1:${await freePort()}` }),
    );
    expect(r.code, r.proc.output).toBe(2);
    expect(r.errors).toHaveLength(4);
    expect(r.text).toContain("set DOCK_STATE_DIR to a directory this user can write");
    expect(r.text).toContain("creating it FOR ALL TABLES needs a superuser");
    expect(r.text).toContain("could not be reached");
    expect(r.text).toContain('ALTER ROLE "plain" WITH REPLICATION');
  });

  it("given snapshot state an earlier version left in the working directory, then start refuses to leave it behind and names where to move it", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "dock-legacy-"));
    writeFileSync(path.join(cwd, "cdc-state.json"), "{}");
    const { DOCK_STATE_DIR: _unset, ...settings } = env();
    const r = await refusedStart(settings, cwd);
    expect(r.code, r.proc.output).toBe(2);
    expect(r.text).toContain(`${path.join(cwd, "cdc-state.json")} holds state an earlier version kept in the working directory`);
    expect(r.text).toContain(`move it to ${path.join(cwd, ".dock-state", "cdc-app_db-loading_dock.json")}`);
  });
});

describe("the Worker's own answers at start (real Worker under wrangler dev)", () => {
  let worker: Awaited<ReturnType<typeof startWorker>>;
  // (The first requests of a fresh wrangler dev take seconds: the checks get the default 15 s wait.)
  beforeAll(async () => {
    worker = await startWorker({ CDC_INGEST_SECRET: TEST_SECRET, CDC_SOURCES: "app_db" });
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
  });

  it("given a CDC_INGEST_SECRET that is not the Worker's, then start fails with exit 2 naming the secret on both sides", {
    timeout: 60_000,
  }, async () => {
    const r = await refusedStart(
      env({ WORKER_URL: worker.url, CDC_STARTUP_WAIT_MS: "15000", CDC_INGEST_SECRET: "whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC0zMmI=" }),
    );
    expect(r.code, r.proc.output).toBe(2);
    expect(r.text).toContain("the Worker refused this sidecar's signature (401): CDC_INGEST_SECRET is not the Worker's CDC_INGEST_SECRET");
  });

  it("given a CDC_SOURCE the Worker does not declare, then start fails with exit 2 naming CDC_SOURCES", { timeout: 60_000 }, async () => {
    const r = await refusedStart(env({ WORKER_URL: worker.url, CDC_STARTUP_WAIT_MS: "15000", CDC_SOURCE: "billing_db" }));
    expect(r.code, r.proc.output).toBe(2);
    expect(r.text).toContain('the Worker refused source "billing_db" (403');
    expect(r.text).toContain('Add "billing_db" to the Worker\'s CDC_SOURCES');
  });

  it("given the right secret and a declared source, then the check passes, queues nothing, and the sidecar streams", {
    timeout: 60_000,
  }, async () => {
    const proc = new BuiltProcess(
      install,
      "main.mjs",
      [],
      env({
        WORKER_URL: worker.url,
        CDC_STARTUP_WAIT_MS: "15000",
        CDC_SLOT: "real_worker",
        CDC_PUBLICATION: "payroll_pub",
        CDC_SNAPSHOT: "false",
      }),
    );
    try {
      await waitFor("streaming", () => proc.events("cdc.streaming").length > 0 || proc.child.exitCode !== null, 60_000);
      expect(proc.events("cdc.start_refused"), proc.output).toEqual([]);
      expect(proc.events("cdc.start_checked")).toHaveLength(1);
      expect(await proc.terminate()).toBe(0);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
    }
    expect(worker.log()).toMatch(/"event":"cdc\.accepted"[^\n]*"records":0/);
  });
});
