import * as z from "zod";

const iso = z.iso.datetime({ offset: true });
/** The body of POST /ingest/health (what the sidecar knows of its slot; see docs/operations.md). */
export const healthReportSchema = z.object({
  source: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/),
  slot: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/),
  state: z.string().max(32).nullish(),
  slot_lag_bytes: z.number().int().nonnegative().nullish(),
  wal_status: z.enum(["reserved", "extended", "unreserved", "lost"]).nullish(),
  safe_wal_size: z.number().int().nullish(),
  heartbeat_at: iso.nullish(),
  durable_lsn: z
    .string()
    .regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i)
    .nullish(),
  error: z.string().max(2000).nullish(),
});
