import pg from "pg";
import { backoffMs } from "../delivery/backoff";
import { type PgConnectionConfig, ReplicationConnection } from "../replication/replication-connection";
import { quoteIdent } from "../replication/sql-quote";
import type { StartupProblem } from "./problem";

export interface PostgresCheck {
  pg: PgConnectionConfig;
  slot: string;
  publication: string;
  /** `schema.table` list for a publication the sidecar would create; empty = FOR ALL TABLES. */
  tables: string[];
  /** Whether the sidecar copies tables (initial snapshot, backfills), which needs SELECT on them. */
  copies: boolean;
  /** How long an unreachable server is waited for. */
  waitMs: number;
}

/** Postgres errors no wait can fix: bad password, no such role or database, refused by pg_hba.conf. */
const SETTING_ERRORS = new Set(["28P01", "28000", "3D000", "42501"]);

/**
 * What stops logical replication for this sidecar, found before it starts instead of at the
 * first slot or publication command: the server's wal_level, the role's REPLICATION attribute,
 * the right to create the publication it would create, SELECT on the tables it would copy, a
 * free replication slot, and a replication connection actually accepted. Every problem comes
 * with what to run; all are reported at once.
 */
export async function postgresProblems(c: PostgresCheck): Promise<StartupProblem[]> {
  const db = await connectChecked(c.pg, c.waitMs);
  if ("message" in db) return [db];
  const problems: StartupProblem[] = [];
  try {
    const { rows } = await db.query(
      `SELECT current_setting('wal_level') AS wal_level, r.rolname AS role, r.rolsuper AS superuser, r.rolreplication AS replication,
              EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication' AND pg_has_role(r.oid, g.oid, 'MEMBER')) AS rds_replication,
              has_database_privilege(current_database(), 'CREATE') AS can_create, current_database() AS database,
              current_setting('max_replication_slots')::int AS max_slots, (SELECT count(*)::int FROM pg_replication_slots) AS slots,
              EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) AS slot_exists,
              EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $2) AS publication_exists
         FROM pg_roles r WHERE r.rolname = current_user`,
      [c.slot, c.publication],
    );
    const s = rows[0] as {
      wal_level: string;
      role: string;
      superuser: boolean;
      replication: boolean;
      rds_replication: boolean;
      can_create: boolean;
      database: string;
      max_slots: number;
      slots: number;
      slot_exists: boolean;
      publication_exists: boolean;
    };
    const role = quoteIdent(s.role);
    if (s.wal_level !== "logical") {
      problems.push({
        message: `Postgres runs with wal_level = ${s.wal_level}; logical replication needs wal_level = logical (ALTER SYSTEM SET wal_level = logical, then restart Postgres; on a managed database, its logical replication setting)`,
      });
    }
    const mayReplicate = s.superuser || s.replication || s.rds_replication;
    if (!mayReplicate) {
      problems.push({
        message: `role ${s.role} (PGUSER) may not stream changes: it has neither the REPLICATION nor the SUPERUSER attribute. Run ALTER ROLE ${role} WITH REPLICATION (on Amazon RDS: GRANT rds_replication TO ${role})`,
      });
    }
    if (!s.slot_exists && s.slots >= s.max_slots) {
      problems.push({
        message: `no free replication slot for CDC_SLOT ${c.slot}: all max_replication_slots = ${s.max_slots} are taken. Drop an unused slot (SELECT pg_drop_replication_slot('…')) or raise max_replication_slots (restart needed)`,
      });
    }
    if (s.publication_exists) {
      if (c.copies) problems.push(...(await unreadable(db, s.role, c.publication)));
    } else {
      problems.push(...(await cannotCreatePublication(db, c, s)));
    }
    if (mayReplicate && s.wal_level === "logical") {
      const refused = await replicationRefused(c.pg, s.role);
      if (refused) problems.push(refused);
    }
  } finally {
    await db.end().catch(() => {});
  }
  return problems;
}

/** A connected client, or what stops connecting: a refused login at once, an unreachable server after `waitMs`. */
export async function connectChecked(config: PgConnectionConfig, waitMs: number): Promise<pg.Client | StartupProblem> {
  const where = `Postgres at ${config.host}:${config.port} (database ${config.database}, role ${config.user})`;
  const until = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    const db = new pg.Client({ ...config, connectionTimeoutMillis: Math.max(1000, Math.min(10_000, until - Date.now())) });
    db.on("error", () => {});
    try {
      await db.connect();
      return db;
    } catch (err) {
      await db.end().catch(() => {});
      const code = (err as { code?: string }).code ?? "";
      const text = (err as Error).message || code;
      if (SETTING_ERRORS.has(code)) {
        return {
          message: `${where} refused the connection: ${text}. Check PGUSER, PGPASSWORD and PGDATABASE (and pg_hba.conf for this host)`,
        };
      }
      const wait = Math.max(250, backoffMs(attempt, 500, 4000));
      if (Date.now() + wait >= until) {
        return {
          transient: true,
          message: `${where} could not be reached for ${Math.round(waitMs / 1000)} s: ${text}. Check PGHOST and PGPORT, and that the server is up`,
        };
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** The tables of an existing publication this role cannot SELECT: the initial copy and backfills read them. */
async function unreadable(db: pg.Client, role: string, publication: string): Promise<StartupProblem[]> {
  const { rows } = await db.query(
    `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_publication_tables
      WHERE pubname = $1 AND NOT has_table_privilege(format('%I.%I', schemaname, tablename), 'SELECT') ORDER BY 1`,
    [publication],
  );
  if (rows.length === 0) return [];
  const names = (rows as { name: string }[]).map((r) => r.name);
  const listed = names.slice(0, 20).join(", ") + (names.length > 20 ? ` and ${names.length - 20} more` : "");
  return [
    {
      message: `role ${role} cannot read ${listed} of publication ${publication} (CDC_PUBLICATION): the initial copy and backfills SELECT them. Run GRANT SELECT ON ${listed} TO ${quoteIdent(role)}, or set CDC_SNAPSHOT=false to stream changes only`,
    },
  ];
}

/** Why this role cannot create the publication the sidecar would create, if it cannot. */
async function cannotCreatePublication(
  db: pg.Client,
  c: PostgresCheck,
  s: { role: string; superuser: boolean; can_create: boolean; database: string },
): Promise<StartupProblem[]> {
  const pub = quoteIdent(c.publication);
  if (c.tables.length === 0) {
    if (s.superuser) return [];
    return [
      {
        message: `publication ${c.publication} (CDC_PUBLICATION) does not exist, and creating it FOR ALL TABLES needs a superuser, which role ${s.role} is not. Create it once as a superuser (CREATE PUBLICATION ${pub} FOR ALL TABLES), or name the tables in CDC_TABLES (the role must own them)`,
      },
    ];
  }
  const problems: StartupProblem[] = [];
  if (!s.superuser && !s.can_create) {
    problems.push({
      message: `publication ${c.publication} (CDC_PUBLICATION) does not exist, and role ${s.role} may not create it: run GRANT CREATE ON DATABASE ${quoteIdent(s.database)} TO ${quoteIdent(s.role)}, or create it as the tables' owner (CREATE PUBLICATION ${pub} FOR TABLE …)`,
    });
  }
  const { rows } = await db.query(
    `SELECT t.name, c.oid IS NOT NULL AS found, coalesce(pg_has_role(c.relowner, 'USAGE'), false) AS owns
       FROM unnest($1::text[]) AS t(name)
       LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)`,
    [c.tables.map((t) => (t.includes(".") ? t : `public.${t}`))],
  );
  const tables = rows as { name: string; found: boolean; owns: boolean }[];
  const missing = tables.filter((t) => !t.found).map((t) => t.name);
  if (missing.length > 0)
    problems.push({ message: `CDC_TABLES names ${missing.join(", ")}, which does not exist in database ${s.database}` });
  const foreign = tables.filter((t) => t.found && !t.owns).map((t) => t.name);
  if (foreign.length > 0 && !s.superuser) {
    problems.push({
      message: `role ${s.role} does not own ${foreign.join(", ")} (CDC_TABLES), and only a table's owner may add it to a publication: create the publication as the owner (CREATE PUBLICATION ${pub} FOR TABLE ${foreign.join(", ")}), then start the sidecar`,
    });
  }
  return problems;
}

/** Opens the replication connection the sidecar will stream on, and asks the server who it is. */
async function replicationRefused(config: PgConnectionConfig, role: string): Promise<StartupProblem | null> {
  const repl = new ReplicationConnection(config);
  repl.client.on("error", () => {});
  try {
    await repl.connect();
    await repl.command("IDENTIFY_SYSTEM");
    return null;
  } catch (err) {
    return {
      message: `Postgres refused a replication connection for role ${role}: ${(err as Error).message}. The role needs REPLICATION, and pg_hba.conf must let it connect to this database`,
    };
  } finally {
    await repl.close().catch(() => {});
  }
}
