import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

const BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function asPostgres(args: string[]): { status: number | null; out: string } {
  const run =
    process.getuid?.() === 0
      ? spawnSync("runuser", ["-u", "postgres", "--", ...args], { encoding: "utf8" })
      : spawnSync(args[0] as string, args.slice(1), { encoding: "utf8" });
  return { status: run.status, out: `${run.stdout ?? ""}${run.stderr ?? ""}` };
}

export interface ClusterOptions {
  maxSlotWalKeepSize?: string;
  extraConf?: string;
}

/**
 * A throwaway PostgreSQL 15 cluster: initdb in a temp dir as the `postgres` user, a free port,
 * wal_level=logical. Missing binaries are an error, never a skip: these tests exist to run
 * against a real server.
 */
export class PgCluster {
  readonly dir: string;
  port = 0;
  private constructor(dir: string) {
    this.dir = dir;
  }

  static async start(opts: ClusterOptions = {}): Promise<PgCluster> {
    if (!existsSync(path.join(BIN, "initdb"))) {
      throw new Error(`PostgreSQL 15 binaries not found in ${BIN}: these tests need a real server (apt-get install postgresql-15)`);
    }
    const dir = mkdtempSync(path.join(tmpdir(), "dock-pg-"));
    chmodSync(dir, 0o700);
    if (process.getuid?.() === 0)
      chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
    const cluster = new PgCluster(dir);
    const init = asPostgres([
      path.join(BIN, "initdb"),
      "-D",
      path.join(dir, "data"),
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
      "-E",
      "UTF8",
    ]);
    if (init.status !== 0) throw new Error(`initdb failed: ${init.out}`);
    cluster.port = await freePort();
    const conf = [
      `port = ${cluster.port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      "wal_level = logical",
      "max_replication_slots = 20",
      "max_wal_senders = 20",
      "fsync = off",
      "full_page_writes = off",
      "wal_sender_timeout = 60s",
      "shared_buffers = 64MB",
      "max_wal_size = 256MB",
      "min_wal_size = 32MB",
      "wal_segment_size = 16MB",
      opts.maxSlotWalKeepSize ? `max_slot_wal_keep_size = '${opts.maxSlotWalKeepSize}'` : "",
      opts.extraConf ?? "",
    ].filter((l) => l && !l.startsWith("wal_segment_size"));
    appendFileSync(path.join(dir, "data", "postgresql.conf"), `\n${conf.join("\n")}\n`);
    cluster.ctl(["start", "-w", "-t", "60", "-l", path.join(dir, "server.log")]);
    return cluster;
  }

  ctl(args: string[]): void {
    const res = asPostgres([path.join(BIN, "pg_ctl"), "-D", path.join(this.dir, "data"), ...args]);
    if (res.status !== 0) throw new Error(`pg_ctl ${args.join(" ")} failed: ${res.out}`);
  }

  /** Kills the server without a checkpoint: recovery replays WAL on the next start. */
  crash(): void {
    this.ctl(["stop", "-m", "immediate", "-w"]);
  }

  restart(): void {
    this.ctl(["start", "-w", "-t", "60", "-l", path.join(this.dir, "server.log")]);
  }

  get env(): Record<string, string> {
    return { PGHOST: "127.0.0.1", PGPORT: String(this.port), PGUSER: "postgres", PGDATABASE: "postgres" };
  }

  async client(): Promise<pg.Client> {
    const c = new pg.Client({ host: "127.0.0.1", port: this.port, user: "postgres", database: "postgres" });
    await c.connect();
    return c;
  }

  async sql(text: string, params: unknown[] = []): Promise<pg.QueryResult> {
    const c = await this.client();
    try {
      return await c.query(text, params);
    } finally {
      await c.end();
    }
  }

  stop(): void {
    try {
      this.ctl(["stop", "-m", "fast", "-w"]);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function writeFile(p: string, text: string): void {
  writeFileSync(p, text);
}
