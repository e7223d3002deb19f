import { readFileSync } from "node:fs";
import path from "node:path";
import * as z from "zod";
import { stateDirOf } from "./startup/state-dir";

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0"])
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1");
const name = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "lowercase letters, digits and _ (a Postgres slot name)");

/** Every setting, by its environment variable. CDC_CONFIG_FILE may name a JSON file of the same keys; the environment wins. */
export const configSchema = z.object({
  PGHOST: z.string().default("127.0.0.1"),
  PGPORT: int(5432, 1),
  PGUSER: z.string().default("postgres"),
  PGPASSWORD: z.string().optional(),
  PGDATABASE: z.string().default("postgres"),
  CDC_SOURCE: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/)
    .default("app_db"),
  CDC_SLOT: name.default("loading_dock"),
  CDC_PUBLICATION: z.string().min(1).max(63).default("loading_dock"),
  /** Comma-separated `schema.table` list for a publication we create; empty means FOR ALL TABLES. */
  CDC_TABLES: z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  WORKER_URL: z.url(),
  CDC_INGEST_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, "must be whsec_ followed by base64"),
  CDC_BATCH_MAX_RECORDS: int(5000, 1),
  CDC_BATCH_MAX_BYTES: int(4_000_000, 1000).refine((n) => n <= 7_000_000, "the Worker accepts at most 8 MB a delivery"),
  CDC_MAX_IN_FLIGHT: int(4, 1),
  CDC_LINGER_MS: int(200),
  /** Longest the replication socket stays paused (no delivery accepted) before the connection is let go. */
  CDC_MAX_PAUSE_MS: int(30_000, 100),
  CDC_STATUS_INTERVAL_MS: int(10_000, 100),
  CDC_HEARTBEAT_MS: int(10_000),
  CDC_HEARTBEAT_PREFIX: z.string().min(1).default("loading_dock_heartbeat"),
  CDC_SLOT_CHECK_MS: int(15_000, 100),
  /** How often slot lag and heartbeat health go to the Worker's POST /ingest/health; 0 = never. */
  CDC_HEALTH_REPORT_MS: int(30_000),
  CDC_HEALTH_HOST: z.string().default("127.0.0.1"),
  CDC_HEALTH_PORT: int(9187),
  CDC_SNAPSHOT: bool(true),
  CDC_SNAPSHOT_CHUNK_ROWS: int(10_000, 1),
  /** Where state is kept (see startup/state-dir.ts); resolved by loadConfig. */
  DOCK_STATE_DIR: z.string().optional(),
  /** Snapshot progress; unset: `cdc-<source>-<slot>.json` in the state directory. */
  CDC_STATE_FILE: z.string().optional(),
  CDC_SHUTDOWN_TIMEOUT_MS: int(30_000, 100),
  /** How long the start-up checks wait for an unreachable Worker or Postgres before giving up. */
  CDC_STARTUP_WAIT_MS: int(15_000, 0),
});

export type SidecarConfig = Omit<z.infer<typeof configSchema>, "DOCK_STATE_DIR" | "CDC_STATE_FILE"> & {
  /** Absolute. */
  DOCK_STATE_DIR: string;
  CDC_STATE_FILE: string;
};

/** The snapshot state file's name in the state directory when CDC_STATE_FILE is unset. */
export function defaultStateFileName(source: string, slot: string): string {
  return `cdc-${source}-${slot}.json`;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SidecarConfig {
  let fileValues: Record<string, unknown> = {};
  if (env.CDC_CONFIG_FILE) {
    try {
      fileValues = JSON.parse(readFileSync(env.CDC_CONFIG_FILE, "utf8")) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`CDC_CONFIG_FILE ${env.CDC_CONFIG_FILE}: ${(err as Error).message}`);
    }
  }
  const merged: Record<string, unknown> = { ...fileValues };
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== "") merged[key] = v;
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    // Name the setting, never echo its value: it may be a secret.
    const lines = result.error.issues.map((i) => `${i.message} (setting ${i.path.join(".")})`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const dir = stateDirOf(env, result.data.DOCK_STATE_DIR);
  return {
    ...result.data,
    DOCK_STATE_DIR: dir,
    CDC_STATE_FILE: path.resolve(
      result.data.CDC_STATE_FILE ?? path.join(dir, defaultStateFileName(result.data.CDC_SOURCE, result.data.CDC_SLOT)),
    ),
  };
}
